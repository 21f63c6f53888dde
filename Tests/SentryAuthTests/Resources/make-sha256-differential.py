#!/usr/bin/env python3
"""Writes sha256-differential.txt: one random 1,024-byte message M, then the SHA-256 of M[:n]
for every n in 0...1024, computed by Python's hashlib (an implementation independent of ours).

Run once from this folder: python3 make-sha256-differential.py
"""
import hashlib
import secrets

message = secrets.token_bytes(1024)
with open("sha256-differential.txt", "w") as out:
    out.write("# message M, then lines 'n digest' with digest = SHA-256(M[:n]), from Python hashlib\n")
    out.write("M = " + message.hex() + "\n")
    for n in range(1025):
        out.write(f"{n} {hashlib.sha256(message[:n]).hexdigest()}\n")
