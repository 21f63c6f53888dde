#!/usr/bin/env python3
"""Compiles every ```swift block of README.md and the DocC catalog against the library.

Each block becomes the body of its own `async throws` function in a scratch package that depends
on this one, so a snippet that no longer matches the API fails CI. A block right after the line
`<!-- snippet: no-compile -->` is skipped (package manifests, other frameworks' middleware).
"""
import pathlib
import re
import subprocess
import sys
import tempfile

root = pathlib.Path(__file__).resolve().parent.parent
documents = [root / "README.md", *sorted((root / "Sources/SentryAuth/SentryAuth.docc").glob("*.md"))]
block = re.compile(r"(<!-- snippet: no-compile -->\s*)?```swift\n(.*?)```", re.S)

functions = []
for document in documents:
    for number, match in enumerate(block.finditer(document.read_text())):
        if match.group(1):
            continue
        body = "\n".join("    " + line for line in match.group(2).splitlines())
        name = re.sub(r"\W", "_", document.stem) + f"_{number}"
        functions.append(f"// {document.relative_to(root)}, block {number}\nfunc snippet_{name}() async throws {{\n{body}\n}}\n")

scratch = pathlib.Path(tempfile.mkdtemp(prefix="sentry-auth-snippets-"))
(scratch / "Sources/Snippets").mkdir(parents=True)
(scratch / "Package.swift").write_text(f"""// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "snippets",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "{root}")],
    targets: [.target(name: "Snippets", dependencies: [.product(name: "SentryAuth", package: "{root.name}")])]
)
""")
(scratch / "Sources/Snippets/Snippets.swift").write_text(
    "import Foundation\nimport SentryAuth\n\n" + "\n".join(functions))
print(f"check-snippets: compiling {len(functions)} snippets from {len(documents)} documents")
result = subprocess.run(["swift", "build", "--package-path", str(scratch)], capture_output=True, text=True)
if result.returncode != 0:
    print(result.stdout[-20000:], result.stderr[-5000:])
    print("check-snippets: FAILED; the generated file is", scratch / "Sources/Snippets/Snippets.swift")
    sys.exit(1)
print("check-snippets: all snippets compile")
