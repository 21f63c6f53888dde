#!/usr/bin/env python3
"""The oracle for the IP differential test: answers each line of standard input with Python's
`ipaddress` module, an implementation independent of SentryAuth's.

  A <text>            -> "ok <version> <packed hex> <zone or ->" or "err"   (ip_address)
  P <text>            -> "ok <version> <network packed hex> <length>" or "err"  (ip_network, strict)
  C <prefix> <addr>   -> "1" or "0"                                        (addr in network)
"""
import ipaddress
import sys

out = []
for line in sys.stdin.read().split("\n"):
    if not line:
        continue
    kind, _, rest = line.partition(" ")
    try:
        if kind == "A":
            address = ipaddress.ip_address(rest)
            zone = getattr(address, "scope_id", None) or "-"
            out.append(f"ok {address.version} {address.packed.hex()} {zone}")
        elif kind == "P":
            network = ipaddress.ip_network(rest, strict=True)
            out.append(f"ok {network.version} {network.network_address.packed.hex()} {network.prefixlen}")
        elif kind == "C":
            prefix, address = rest.split(" ")
            out.append("1" if ipaddress.ip_address(address) in ipaddress.ip_network(prefix) else "0")
        else:
            out.append("bad-request")
    except ValueError:
        out.append("err")
sys.stdout.write("\n".join(out) + "\n")
