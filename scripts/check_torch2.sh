#!/usr/bin/env bash
# Checks that every translation unit of dvae (src/, apps/, tests/) compiles
# against LibTorch 2.x headers, on a machine that only has Debian 12's 1.13.
#
# It downloads Debian trixie's libtorch-dev .deb (headers only, 2.6 at the time
# of writing) with a private apt configuration - nothing is installed and the
# system's apt sources are not touched - unpacks it under the cache directory,
# configures dvae with CMake (configure only, against the system's 1.13) to get
# each file's compile flags, swaps the 1.13 include directories for the 2.x
# ones and runs `g++ -std=c++17 -fsyntax-only` on every file.
#
# Not part of the test suite: it needs the network the first time. Linking is
# not checked: trixie's libtorch needs a newer glibc than Debian 12 has.
#
# Usage: scripts/check_torch2.sh [FILE...]   (default: every .cpp under src/ apps/ tests/)
# Environment:
#   DVAE_TORCH2_CACHE  cache directory   (default: build/torch2-check)
#   DVAE_TORCH2_SUITE  Debian suite      (default: trixie; sid also works)
#   DVAE_TORCH2_DEB    a libtorch-dev .deb to use instead of downloading one
#   DVAE_TORCH2_JOBS   parallel compiles (default: 2)
#   CXX                compiler          (default: g++)
# Exit status: 0 when every file compiles, 1 when any fails (each failing file
# is printed with its first errors; full logs are under the cache directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${DVAE_TORCH2_CACHE:-$root/build/torch2-check}"
suite="${DVAE_TORCH2_SUITE:-trixie}"
jobs="${DVAE_TORCH2_JOBS:-2}"
cxx="${CXX:-g++}"
py="/usr/bin/python3"
[[ -x "$py" ]] || py="python3"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
torch2="$cache/libtorch-dev"

# 1. LibTorch 2.x headers, once.
if [[ ! -f "$torch2/usr/include/torch/csrc/api/include/torch/version.h" ]]; then
  deb="${DVAE_TORCH2_DEB:-}"
  if [[ -z "$deb" ]]; then
    apt_dir="$cache/apt"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
      > "$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
              -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
    echo "check_torch2: fetching the $suite package index (private apt lists under $apt_dir)"
    apt-get "${apt_opts[@]}" -qq update
    (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -qq download libtorch-dev)
    deb="$(ls "$apt_dir"/debs/libtorch-dev_*.deb | head -n 1)"
  fi
  echo "check_torch2: unpacking $(basename "$deb")"
  rm -rf "$torch2.tmp" && mkdir -p "$torch2.tmp"
  dpkg-deb -x "$deb" "$torch2.tmp"
  rm -rf "$torch2" && mv "$torch2.tmp" "$torch2"
fi
version_h="$torch2/usr/include/torch/csrc/api/include/torch/version.h"
major="$(awk '/define TORCH_VERSION_MAJOR/ {print $3}' "$version_h")"
minor="$(awk '/define TORCH_VERSION_MINOR/ {print $3}' "$version_h")"
patch="$(awk '/define TORCH_VERSION_PATCH/ {print $3}' "$version_h")"
echo "check_torch2: LibTorch $major.$minor.$patch headers in $torch2"
if [[ "$major" -lt 2 ]]; then
  echo "check_torch2: error: expected LibTorch 2.x headers, found $major.$minor.$patch" >&2
  exit 1
fi

# 2. Compile flags: configure dvae (no build) in a directory of our own.
cmake -S "$root" -B "$cache/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDVAE_BUILD_TESTS=ON -DDVAE_UNITY_BUILD=OFF \
  > "$cache/cmake.log" 2>&1 || { cat "$cache/cmake.log" >&2; exit 1; }

# 3. Direct includes of LibTorch headers that 2.x lacks would silently resolve
#    to the system's 1.13 copies below: check them first.
missing=0
while IFS= read -r hdr; do
  found=0
  for dir in "$torch2/usr/include" "$torch2/usr/include/torch/csrc/api/include"; do
    [[ -f "$dir/$hdr" ]] && found=1
  done
  if [[ "$found" -eq 0 ]]; then
    echo "check_torch2: FAIL: <$hdr> (included by dvae) does not exist in LibTorch $major.$minor" >&2
    missing=1
  fi
done < <(grep -rhoE '#include <(torch|ATen|c10|caffe2)/[^>]+>' "$root/src" "$root/apps" "$root/tests" \
           | sed -E 's/#include <([^>]+)>/\1/' | sort -u)

# 4. One command line per file (and one for the precompiled header), written by
#    Python from compile_commands.json.
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(cd "$root" && find src apps tests -name '*.cpp' | sort)
fi
mkdir -p "$cache/pch" "$cache/logs"
"$py" - "$root" "$cache" "$torch2" "$cxx" "${files[@]}" <<'EOF'
import json, os, shlex, sys
root, cache, torch2, cxx, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
entries = {}
for e in json.load(open(os.path.join(cache, "cmake", "compile_commands.json"))):
    args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
    entries[os.path.realpath(os.path.join(e["directory"], e["file"]))] = args
inc2 = [os.path.join(torch2, "usr/include"), os.path.join(torch2, "usr/include/torch/csrc/api/include")]
pch = os.path.join(cache, "pch", "dvae_pch.hxx")

def is_torch_include_dir(d):
    # LibTorch's own include roots (the 1.13 ones), never /usr/include itself.
    d = os.path.normpath(d)
    return d != "/usr/include" and (d.endswith("torch/csrc/api/include")
                                    or os.path.isfile(os.path.join(d, "ATen", "ATen.h")))

def torch2_flags(args):
    out, i = [], 1  # drop the compiler
    while i < len(args):
        a = args[i]
        if a in ("-o", "-include", "-x", "-MF", "-MT", "-MQ"):
            i += 2
            continue
        if a in ("-c", "-Winvalid-pch", "-MD", "-MMD") or not a.startswith("-"):
            i += 1
            continue
        if a in ("-isystem", "-I") and i + 1 < len(args):
            if not is_torch_include_dir(args[i + 1]):
                out += [a, args[i + 1]]
            i += 2
            continue
        if a.startswith("-I") and is_torch_include_dir(a[2:]):
            i += 1
            continue
        if a.startswith("-std="):
            a = "-std=c++17"
        out.append(a)
        i += 1
    return [f for d in inc2 for f in ("-isystem", d)] + out

core_pch_src = None
lines = []
for f in files:
    path = os.path.realpath(os.path.join(root, f))
    if path not in entries:
        sys.exit(f"check_torch2: error: {f}: not in compile_commands.json, expected a file CMake builds")
    args = entries[path]
    if core_pch_src is None and "-include" in args:
        core_pch_src = args[args.index("-include") + 1]
        core_flags = torch2_flags(args)
    flags = torch2_flags(args)
    if "-include" in args:
        flags += ["-Winvalid-pch", "-include", pch]
    rel = os.path.relpath(path, root)
    lines.append(rel + "\t" + shlex.join([cxx] + flags + ["-fsyntax-only", path]))
with open(os.path.join(cache, "commands.tsv"), "w") as out:
    out.write("\n".join(lines) + "\n")
if core_pch_src is not None:
    # The header CMake generates, less its "#pragma GCC system_header" (ignored,
    # with a warning, in a main file); written only when it changed.
    header = "".join(l for l in open(core_pch_src) if "system_header" not in l)
    command = shlex.join([cxx] + core_flags + ["-x", "c++-header", "-o", pch + ".gch.tmp", pch]) + "\n"
    for path, text in ((pch, header), (os.path.join(cache, "pch", "command.sh"), command)):
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as out:
                out.write(text)
EOF

# 5. The precompiled header (torch/torch.h and friends, as CMake's PCH), then
#    every file; -Winvalid-pch says when a file could not reuse it.
#    The header is rebuilt only when its source, its command or the 2.x headers
#    are newer than it.
gch="$cache/pch/dvae_pch.hxx.gch"
if [[ -f "$cache/pch/command.sh" ]] && { [[ ! -f "$gch" ]] || [[ "$cache/pch/command.sh" -nt "$gch" ]] ||
     [[ "$cache/pch/dvae_pch.hxx" -nt "$gch" ]] || [[ "$version_h" -nt "$gch" ]]; }; then
  echo "check_torch2: precompiling torch/torch.h ($major.$minor.$patch)"
  rm -f "$gch"
  if ! nice -n 15 bash "$cache/pch/command.sh" > "$cache/logs/pch.log" 2>&1; then
    echo "check_torch2: FAIL: precompiled header (torch/torch.h, nlohmann/json.hpp)" >&2
    head -n 30 "$cache/logs/pch.log" >&2
    exit 1
  fi
  mv "$gch.tmp" "$gch"
  # Every LibTorch header torch/torch.h pulls in must come from the 2.x tree,
  # none from the system's 1.13 (a header 2.x lacks would fall through to it).
  sed 's/ -x c++-header -o [^ ]* / -x c++-header -M -MF pch.d -o \/dev\/null /' "$cache/pch/command.sh" \
    > "$cache/pch/deps.sh"
  (cd "$cache/pch" && nice -n 15 bash deps.sh) > "$cache/logs/pch_deps.log" 2>&1
  stray="$(tr ' \\' '\n\n' < "$cache/pch/pch.d" | grep -E '/(torch|ATen|c10|caffe2)/' | grep -v "^$torch2/" || true)"
  if [[ -n "$stray" ]]; then
    rm -f "$gch"
    echo "check_torch2: FAIL: torch/torch.h includes headers from outside LibTorch $major.$minor's tree:" >&2
    echo "$stray" | head -n 10 >&2
    exit 1
  fi
fi
echo "check_torch2: compiling ${#files[@]} files with -fsyntax-only, $jobs at a time"
compile_one() {
  local rel="$1" cmd="$2" log
  log="$DVAE_CHECK_LOGS/${rel//\//_}.log"
  if nice -n 15 bash -c "$cmd" > "$log" 2>&1; then
    if grep -q 'warning: .*dvae_pch.hxx.gch.*not used' "$log"; then
      echo "ok   $rel (without the precompiled header)"
    else
      echo "ok   $rel"
    fi
  else
    echo "FAIL $rel"
    grep -m 8 -E 'error|required from' "$log" | sed 's/^/     /'
    return 1
  fi
}
export -f compile_one
export DVAE_CHECK_LOGS="$cache/logs"
status=0
tr '\t' '\n' < "$cache/commands.tsv" | xargs -d '\n' -n 2 -P "$jobs" bash -c 'compile_one "$1" "$2"' _ \
  | tee "$cache/results.txt" || status=1
failed="$(grep -c '^FAIL' "$cache/results.txt" || true)"
echo "check_torch2: LibTorch $major.$minor.$patch: $(( ${#files[@]} - failed )) of ${#files[@]} files compile, $failed fail" \
  "(commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD -- src apps tests 2>/dev/null || echo ' + local changes'))"
if [[ "$missing" -ne 0 || "$failed" -ne 0 || "$status" -ne 0 ]]; then
  exit 1
fi
