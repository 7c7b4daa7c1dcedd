#!/usr/bin/env bash
# Fills .gpubench/ (ignored by git) with what scripts/gpubench.sh needs on a GPU server that
# may reach no package registry: the release binary, chr20, the script itself and, where given,
# Debian packages of the Vulkan loader and of the aligners to compare with. Run it from the
# project root:
#
#   CHR20=/path/to/chr20.fa.gz [DEBS_DIR=DIR] [PEERS_DIR=DIR] bash scripts/prepare-gpubench.sh
#
# CHR20      required: human GRCh37 chromosome 20, gzip FASTA, e.g. Ensembl's
#            https://ftp.ensembl.org/pub/grch37/current/fasta/homo_sapiens/dna/Homo_sapiens.GRCh37.dna.chromosome.20.fa.gz
#            or Debian's vt-examples package (/usr/share/doc/vt/examples/ref/20.fa.gz).
# DEBS_DIR   optional: .deb files of the Vulkan loader and GL dispatch libraries, unpacked on
#            the server only when it has no libvulkan.so.1 (NVIDIA's driver ships the Vulkan
#            driver but not always the loader). On Debian 12: apt-get download libvulkan1
#            libglvnd0 libegl1 libgl1 libgles2 libglx0 libopengl0
# PEERS_DIR  optional: .deb files of the aligners timed on the same reads (on Debian 12:
#            apt-get download bwa minimap2), and a strobealign binary (a file whose name
#            starts with `strobealign`, e.g. the one `cargo install strobealign` puts in
#            ~/.cargo/bin; it needs only glibc). Without them, run gpubench.sh with SKIP_PEERS=1.
#
# Then copy .gpubench/ to the GPU server and run there, from the directory holding it:
#   bash .gpubench/gpubench.sh
set -euo pipefail
die() { echo "prepare-gpubench.sh: $*" >&2; exit 1; }
[ -n "${CHR20:-}" ] || die "set CHR20 to a gzip FASTA of GRCh37 chromosome 20 (see the header of this script)"
[ -r "$CHR20" ] || die "cannot read CHR20=$CHR20"
for var in DEBS_DIR PEERS_DIR; do
  dir=${!var:-}
  [ -z "$dir" ] || compgen -G "$dir/*.deb" >/dev/null || die "$var=$dir holds no .deb files"
done
STROBE=
if [ -n "${PEERS_DIR:-}" ]; then
  for f in "$PEERS_DIR"/strobealign*; do [ -f "$f" ] && [ -x "$f" ] && STROBE=$f; done
fi
grep -qx '/.gpubench/' .git/info/exclude 2>/dev/null || echo /.gpubench/ >> .git/info/exclude
cargo build --release
rm -rf .gpubench/debs .gpubench/tools
mkdir -p .gpubench/debs .gpubench/tools
objcopy --strip-debug target/release/swmap .gpubench/swmap
[ -z "${DEBS_DIR:-}" ] || cp "$DEBS_DIR"/*.deb .gpubench/debs/
[ -z "${PEERS_DIR:-}" ] || cp "$PEERS_DIR"/*.deb .gpubench/tools/
[ -z "$STROBE" ] || { cp "$STROBE" .gpubench/tools/strobealign; chmod +x .gpubench/tools/strobealign; }
cp "$CHR20" .gpubench/chr20.fa.gz
cp scripts/gpubench.sh .gpubench/gpubench.sh
du -sh .gpubench
echo 'then, on the GPU server, from the directory holding .gpubench/: bash .gpubench/gpubench.sh'
