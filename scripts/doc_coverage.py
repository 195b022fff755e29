#!/usr/bin/env python3
"""Fails when a public symbol of the package's own modules has no doc comment.

Usage: doc_coverage.py SYMBOL_GRAPH_DIR...

Reads the symbol graphs the DocC plugin extracted (`*.symbols.json`, public and open symbols
only) and lists every symbol declared in this repository's Sources/ without a doc comment of
its own. Members a type gets from a protocol's default implementation or from the compiler
(no source location in Sources/) are not the package's to document.
"""
import json
import pathlib
import sys


def main():
    missing = []
    checked = 0
    for directory in sys.argv[1:]:
        for path in sorted(pathlib.Path(directory).rglob("*.symbols.json")):
            graph = json.loads(path.read_text())
            for symbol in graph.get("symbols", []):
                if symbol.get("accessLevel") not in ("public", "open"):
                    continue
                if symbol.get("kind", {}).get("identifier") == "swift.extension":
                    continue  # an extension block: its members carry the documentation
                uri = symbol.get("location", {}).get("uri", "")
                if "/Sources/" not in uri:
                    continue
                names = symbol.get("pathComponents", [])
                if any(name.startswith("_") for name in names):
                    continue  # underscored: not API (benchmark hooks)
                checked += 1
                if not symbol.get("docComment", {}).get("lines"):
                    line = symbol["location"].get("position", {}).get("line", 0) + 1
                    where = uri.split("/Sources/", 1)[1]
                    missing.append(f"Sources/{where}:{line}: {'.'.join(names)}")
    for entry in sorted(set(missing)):
        print(f"undocumented public symbol: {entry}")
    print(f"doc coverage: {checked - len(set(missing))} of {checked} public symbols documented")
    sys.exit(1 if missing or checked == 0 else 0)


if __name__ == "__main__":
    main()
