#!/usr/bin/env python3
"""Writes checksum-vectors.txt: the Sentry key checksum computed independently, with Python's
zlib.crc32 (the reference the format names). Each line: the first 31 characters of a key, the
CRC-32 in hex, and the whole key (those 31 characters and the 6 base64url checksum digits).
Run from this folder: python3 make-checksum-vectors.py > checksum-vectors.txt"""
import random
import zlib

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def checksum(text):
    value = zlib.crc32(text.encode("ascii"))
    return value, "".join(ALPHABET[(value >> (6 * (5 - digit))) & 63] for digit in range(6))


rng = random.Random(20261129)
bodies = ["abcdefghijklmnopqrstuvwxyz", "A" * 26, "_" * 26, "-" * 26, "0123456789" * 2 + "abcdef"]
bodies += ["".join(rng.choice(ALPHABET) for _ in range(26)) for _ in range(495)]
for body in bodies:
    head = "sntr_" + body
    value, digits = checksum(head)
    print(f"{head} {value:08x} {head}{digits}")
