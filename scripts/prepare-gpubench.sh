#!/usr/bin/env bash
# Run from the project root: builds the release binary and fills .gpubench/ (ignored by git)
# with what scripts/gpubench.sh needs on the device machine, which reaches no package
# registry: the binary, the Vulkan loader and the peers as Debian packages (from
# ../shared/gpu), chr20, and the script itself. Then:
#   run(command="bash .gpubench/gpubench.sh", carry=[".gpubench"], timeout_s=600)
set -euo pipefail
shared=$(cd "$(dirname "$0")/../../shared" && pwd)
grep -qx '/.gpubench/' .git/info/exclude 2>/dev/null || echo /.gpubench/ >> .git/info/exclude
cargo build --release
mkdir -p .gpubench/debs .gpubench/tools
objcopy --strip-debug target/release/swmap .gpubench/swmap
cp "$shared"/gpu/debs/*.deb .gpubench/debs/
cp "$shared"/gpu/peers/*.deb .gpubench/tools/
cp "$shared/data/human_GRCh37_chr20.fa.gz" .gpubench/chr20.fa.gz
cp scripts/gpubench.sh .gpubench/gpubench.sh
du -sh .gpubench
echo 'then: run(command="bash .gpubench/gpubench.sh", carry=[".gpubench"], timeout_s=600)'
