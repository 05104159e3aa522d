#!/usr/bin/env bash
# Starts a short data-parallel `dvae train` with real launchers and checks that
# each gives the run of `dvae train --nproc 2` (the same log line: training and
# test terms agree to float rounding). Not in CI: it needs Debian's torchrun
# (python3-torch) and, for srun, a running Slurm (slurmctld + slurmd + munge).
# Launchers missing here are reported and skipped.
#
# Debian's torchrun 1.13 on Python 3.11 crashes before starting any worker with
# its defaults (`AttributeError: 'NoneType' object has no attribute 'get'` in
# elastic/multiprocessing/api.py:to_map: Std.from_str("0") returns None because
# Python 3.11 changed `in` for IntFlag members). Passing `--redirects 1 --tee 1`
# (a value whose lookup still works) avoids the broken path; stdout is then also
# copied into torchrun's log folder.
#
# Usage: scripts/check_launchers.sh [DVAE] [DATA_ROOT]
set -euo pipefail
DVAE=$(realpath "${1:-build/dvae}")
DATA_ROOT=$(realpath "${2:-data}")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ARGS=(--threads 1 --data-root "$DATA_ROOT" train --arch mlp --epochs 1 --limit-train 2000 --limit-test 100)
last_line() { tail -n1 "$1/log.jsonl" | python3 -c "
import json, sys
s = json.loads(sys.stdin.read())
print('train_recon %.4f train_kl %.4f test_elbo %.4f' % (s['train_recon'], s['train_kl'], s['test_elbo']))"; }
world_of() { python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['world_size'], c['dist_backend'])" "$1/config.json"; }

"$DVAE" "${ARGS[@]}" --nproc 2 --out "$TMP/nproc" >/dev/null
want=$(last_line "$TMP/nproc")
echo "dvae train --nproc 2:      $want"
status=0

if command -v torchrun >/dev/null; then
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  torchrun --no_python --redirects 1 --tee 1 --log_dir "$TMP/torchrun-logs" --nnodes 1 --nproc_per_node 2 \
    --master_addr 127.0.0.1 --master_port "$port" "$DVAE" "${ARGS[@]}" --out "$TMP/torchrun" >"$TMP/torchrun.out" 2>&1 ||
    { echo "torchrun: failed"; tail -n 20 "$TMP/torchrun.out"; status=1; }
  if [ -f "$TMP/torchrun/log.jsonl" ]; then
    got=$(last_line "$TMP/torchrun")
    echo "torchrun --nproc_per_node 2: $got (world, backend: $(world_of "$TMP/torchrun"))"
    [ "$got" = "$want" ] || { echo "torchrun: differs from --nproc 2"; status=1; }
  fi
else
  echo "torchrun: not installed (Debian: python3-torch), skipped"
fi

if command -v srun >/dev/null && scontrol ping >/dev/null 2>&1; then
  # The README's two-line wrapper.
  cat >"$TMP/dvae-srun.sh" <<EOF
#!/bin/bash
export RANK=\$SLURM_PROCID WORLD_SIZE=\$SLURM_NTASKS LOCAL_RANK=\$SLURM_LOCALID MASTER_PORT=29500
MASTER_ADDR=\$(scontrol show hostnames "\$SLURM_JOB_NODELIST" | head -n1) exec "$DVAE" "\$@"
EOF
  chmod +x "$TMP/dvae-srun.sh"
  srun -N1 -n2 "$TMP/dvae-srun.sh" "${ARGS[@]}" --out "$TMP/srun" >"$TMP/srun.out" 2>&1 ||
    { echo "srun: failed"; tail -n 20 "$TMP/srun.out"; status=1; }
  if [ -f "$TMP/srun/log.jsonl" ]; then
    got=$(last_line "$TMP/srun")
    echo "srun -N1 -n2:              $got (world, backend: $(world_of "$TMP/srun"))"
    [ "$got" = "$want" ] || { echo "srun: differs from --nproc 2"; status=1; }
  fi
else
  echo "srun: no running Slurm here (srun missing or scontrol ping fails), skipped"
fi
exit $status
