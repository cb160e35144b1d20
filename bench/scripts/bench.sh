#!/usr/bin/env bash
# `./kiln bench [args]`: installs/checks the PyTorch peer, then runs dev.kiln.bench.Bench, which spawns every
# measuring process itself, on the jars and JVM flags of every Kiln program (the AOT cache when fresh, the JIT settings).
#
# Called by the root launcher after it has found a JDK 25+ (JAVA_HOME exported) and Maven, built the jars and the AOT
# cache: bench.sh JVM-FLAGS... -- ARGS..., with the run class path in KILN_RUN_CLASSPATH.
#   ./kiln bench --quick              Kiln and PyTorch, fewer configurations, the same warm-up rule (bench/README.md)
#   ./kiln bench                      full runs (all thread/layout configurations, every GEMM shape, batch 1..4096)
#   ./kiln bench --no-peer            Kiln only
#   ./kiln bench --peers dl4j         also Deeplearning4j (M1-M3), beside PyTorch (same as --peers torch,dl4j). Builds bench/dl4j
#                                     (a Maven project outside the reactor; first time ~120 MB of nd4j/OpenBLAS natives)
#   ./kiln bench --models M1,M3 --name latest --max-threads 2
#   ./kiln bench --device cuda        M1-M4 training on the GPU vs PyTorch eager and torch.compile(mode="reduce-overhead")
#                                     (bench-cuda.sh); without a CUDA device one line says so and how to run it (exit 2)
#   ./kiln bench --microkernel-ab     A/B of the shared CPU micro-kernel vs its specialised copies (bench/README.md)
#   ./kiln bench jmh [JMH args]       the JMH kernel benchmarks (not part of --quick), e.g. `jmh GemmJmh -p shape=512x512x512`
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${JAVA_HOME:?bench.sh is started by ./kiln bench, which sets JAVA_HOME}"
# ./kiln bench has built the jars (and the AOT cache) and passes the run class path, then the JVM flags up to "--".
: "${KILN_RUN_CLASSPATH:?bench.sh is started by ./kiln bench, which builds the jars and sets KILN_RUN_CLASSPATH}"
cp=$KILN_RUN_CLASSPATH
jvm=()
while [[ $# -gt 0 && "$1" != "--" ]]; do jvm+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
jvm+=(-Djava.awt.headless=true)

note() { printf 'kiln bench: %s\n' "$*" >&2; }

if [[ "${1:-}" == "--microkernel-ab" ]]; then
    # the shared micro-kernel against its specialised copies, one JVM per variant (dev.kiln.bench.MicroKernelAB)
    shift
    exec "$JAVA_HOME/bin/java" "${jvm[@]}" -cp "$cp" dev.kiln.bench.MicroKernelAB "$@"
fi
if [[ "${1:-}" == "jmh" ]]; then
    shift
    exec "$JAVA_HOME/bin/java" "${jvm[@]}" -cp "$cp" org.openjdk.jmh.Main "$@"
fi

# --device cuda: the GPU bench (M1-M4 vs PyTorch eager and compiled on the same GPU), its own script
for a in "$@"; do
    if [[ "$a" == --device=cuda || ( "${prev_arg:-}" == --device && "$a" == cuda ) ]]; then
        exec "$root/bench/scripts/bench-cuda.sh" "${jvm[@]}" -- "$@"
    fi
    prev_arg=$a
done

args=("$@")
# The peers asked for, as Bench reads them: --peers is a comma list (default torch), --no-peer means none.
peers=torch
prev=
for a in "$@"; do
    [[ "$prev" == --peers ]] && peers=$a
    [[ "$a" == --no-peer ]] && peers=none
    prev=$a
done
[[ "$peers" == dl4j ]] && peers=torch,dl4j   # --peers dl4j adds the Java peer to PyTorch (Bench.peers reads it the same way)
if [[ ",$peers," == *,torch,* ]]; then
    # Idempotent; installs Debian's python3-torch/numpy/OpenBLAS when missing (as root) and checks them.
    if ! "$root/bench/scripts/install-peer.sh" >&2; then
        note "the PyTorch peer is not available (see above); running without it"
        args+=(--torch-unavailable)
    fi
fi
if [[ ",$peers," == *,dl4j,* ]]; then
    # Only now, and only here: the DL4J project is not a module of the root pom, so ./kiln test and a plain
    # ./kiln bench never download nd4j. It compiles Timed/CpuLoad/Args and the engine's Json from their sources.
    dl4j="$root/bench/dl4j"
    if [[ ! -f "$dl4j/target/dl4j-build.stamp" || "$(head -n1 "$dl4j/target/dl4j-build.stamp")" != "$JAVA_HOME" \
          || -n "$(find "$dl4j/pom.xml" "$dl4j/src" "$root/bench/src/main" "$root/engine/src/main/java/dev/kiln/io" \
                   -newer "$dl4j/target/dl4j-build.stamp" -print -quit 2>/dev/null || true)" ]]; then
        note "building the Deeplearning4j peer (bench/dl4j; the first build downloads nd4j-native's natives from Maven Central)"
        # shellcheck disable=SC2086 # KILN_MAVEN_ARGS is a list of words by design
        (cd "$dl4j" && mvn -B -ntp -q ${KILN_MAVEN_ARGS:-} compile dependency:build-classpath \
            -Dmdep.outputFile=target/dl4j-classpath.txt -Dmdep.includeScope=runtime)
        printf '%s\n' "$JAVA_HOME" > "$dl4j/target/dl4j-build.stamp"
    fi
fi
exec "$JAVA_HOME/bin/java" "${jvm[@]}" -cp "$cp" dev.kiln.bench.Bench --root "$root" "${args[@]}"
