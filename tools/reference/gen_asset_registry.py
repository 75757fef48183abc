"""Writes crates/datasets/src/assets/registry.json from the reference's asset manifests.

Run from the repository root (plain Python 3, no packages needed):
    python3 tools/reference/gen_asset_registry.py [MANIFEST_DIR]
MANIFEST_DIR defaults to ../shared/reference/jukemir/assets, the manifests p-lambda/jukemir ships in
jukemir/assets/*.json (commit 2415556). Every tag keeps its relative path, original URL (null when
the reference has none) and checksum; the checks below are the reference's, so a manifest it would
reject is rejected here too. The output is one object sorted by tag, one line per tag, so that a
changed asset is a one-line diff.
"""
import json
import pathlib
import posixpath
import sys

DEFAULT_MANIFESTS = pathlib.Path("../shared/reference/jukemir/assets")
OUT = pathlib.Path("crates/datasets/src/assets/registry.json")
CHECKSUM_LENGTHS = {32, 40, 64}  # md5, sha1, sha256


def load(manifest_dir):
    assets, paths = {}, set()
    manifests = sorted(manifest_dir.glob("*.json"))
    if not manifests:
        sys.exit(f"no *.json manifests in {manifest_dir}")
    for manifest in manifests:
        for tag, asset in json.loads(manifest.read_text()).items():
            where = f"{manifest.name}: {tag}"
            if tag != tag.upper():
                sys.exit(f"{where}: tags must be uppercase")
            if tag in assets:
                sys.exit(f"{where}: duplicate tag")
            checksum = asset.get("checksum")
            if not checksum or len(checksum) not in CHECKSUM_LENGTHS:
                sys.exit(f"{where}: checksum missing or of unknown length")
            raw_path = asset["path_rel"].strip()
            # Checked before normalising, which would silently fold "a/../b" into "b".
            if raw_path.startswith("/") or ".." in raw_path.split("/"):
                sys.exit(f"{where}: path must be relative and stay inside the cache: {raw_path}")
            path_rel = posixpath.normpath(raw_path)
            if path_rel in paths:
                sys.exit(f"{where}: duplicate path {path_rel}")
            paths.add(path_rel)
            assets[tag] = {"path_rel": path_rel, "url": asset.get("url"), "checksum": checksum.lower()}
    return assets


def main():
    manifest_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MANIFESTS
    assets = load(manifest_dir)
    lines = [f"  {json.dumps(tag)}: {json.dumps(assets[tag])}" for tag in sorted(assets)]
    OUT.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"wrote {len(assets)} assets to {OUT}")


if __name__ == "__main__":
    main()
