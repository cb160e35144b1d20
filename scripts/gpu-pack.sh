#!/usr/bin/env bash
# ./kiln gpu-pack: a self-contained folder for a GPU machine that has no JDK and no Maven (issue 21, item 6).
#
#   target/gpu-pack/
#     run           the GPU machine's script (scripts/gpu-run.sh): doctor, parity suite, M1/M2 on the GPU vs the CPU,
#                   Kiln vs PyTorch samples/s; results into $OUT (or the folder given as its argument)
#     runtime/      a jlink image of this JDK: the modules jdeps finds in Kiln's jars, less java.desktop (plots only),
#                   plus jdk.incubator.vector; compressed, no debug attributes, headers, man pages or native symbol tables
#     lib/          Kiln's runtime jars (engine, cpu, cuda, bench; of examples the classes, no data); no JUnit, no test classes
#     parity/       the parity suite alone: kiln-cuda's test classes (its kernel tests, run against the real driver by
#                   dev.kiln.cuda.ParitySuite), the engine's test jar they use, and the JUnit jars
#     python/       the PyTorch peer (gpu_peer.py, and peer_bench.py whose model definitions it shares)
#
# Then checks the pack with its own runtime (dev.kiln.bench.GpuPack): under 48 MB, and under the device tool's 64 MiB
# together with the repository's files that travel. Called by ./kiln after the build; needs JAVA_HOME (JDK 25),
# KILN_RUN_CLASSPATH (the run class path) and KILN_TEST_DEPS (kiln-cuda's test class path file).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pack="${KILN_GPU_PACK:-$root/target/gpu-pack}"
: "${JAVA_HOME:?JAVA_HOME must name a JDK 25}" "${KILN_RUN_CLASSPATH:?}" "${KILN_TEST_DEPS:?}"
jdk="$JAVA_HOME/bin"

rm -rf "$pack"
mkdir -p "$pack/lib" "$pack/parity" "$pack/python"

# lib/: Kiln's own jars from the run class path. Their third-party dependencies (charts, HDF5, JMH) serve plots, model
# files and CPU benchmarks; a GPU run loads none of them.
# Of the examples jar its classes only (the doctor, and the lessons GpuLessons runs): the bundled Fashion-MNIST subset
# (5 MB) stays out of the pack; it travels with the repository, and the run puts examples/src/main/resources on the
# class path.
IFS=: read -r -a entries <<< "$KILN_RUN_CLASSPATH"
for e in "${entries[@]}"; do
    case "$(basename "$e")" in
        kiln-examples-*.jar)
            rm -rf "$pack/tmp-cli" && mkdir -p "$pack/tmp-cli"
            (cd "$pack/tmp-cli" && "$jdk/jar" --extract --file "$e" dev/kiln/cli dev/kiln/examples && find . -type f ! -name '*.class' -delete)
            "$jdk/jar" --create --file "$pack/lib/kiln-examples-classes.jar" -C "$pack/tmp-cli" .
            rm -rf "$pack/tmp-cli" ;;
        kiln-*.jar) cp "$e" "$pack/lib/" ;;
    esac
done

# parity/: kiln-cuda's compiled tests as a jar, the engine's test jar, and JUnit.
[[ -d "$root/kernels/target/test-classes/dev" ]] || { echo "gpu-pack: kernels/target/test-classes is missing: the build did not compile kiln-cuda's tests" >&2; exit 1; }
"$jdk/jar" --create --file "$pack/parity/kiln-cuda-tests.jar" -C "$root/kernels/target/test-classes" .
for j in "$root"/engine/target/kiln-engine-*-tests.jar; do [[ -f "$j" ]] && cp "$j" "$pack/parity/"; done
# The test class path also lists the engine's own dependencies (charts, HDF5): lib/ has what the kernels need of those.
IFS=: read -r -a deps < "$KILN_TEST_DEPS" || true   # the file has no final newline
for e in "${deps[@]}"; do
    case "$(basename "$e")" in junit-*.jar|opentest4j-*.jar|apiguardian-*.jar) cp "$e" "$pack/parity/" ;; esac
done

cp "$root/bench/python/gpu_peer.py" "$root/bench/python/peer_bench.py" "$pack/python/"
cp "$root/scripts/gpu-run.sh" "$pack/run"
chmod +x "$pack/run"

# The modules: what jdeps finds in every jar of the pack, plus the Vector API (loaded with --add-modules, so no jar names
# it) and java.logging (JUnit's launcher logs through java.util.logging; jdeps, given JUnit's modular jars, leaves it
# out: the parity suite then died with NoClassDefFoundError: java/util/logging/Logger) and jdk.zipfs (JUnit scans
# packages inside jars through the zip file system; without it the suite found no test), less java.desktop (only plots and image files use it) and java.sql (only the CSV parser shaded into
# junit-jupiter-params uses it, for @CsvSource; it would bring java.xml along).
modules=$("$jdk/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps "$pack"/lib/*.jar "$pack"/parity/*.jar)
modules=$(printf '%s\n' "${modules//,/$'\n'}" jdk.incubator.vector java.logging jdk.zipfs | grep -v -x -e java.desktop -e java.datatransfer -e java.sql | sort -u | paste -sd, -)
echo "gpu-pack: jlink modules $modules"
"$jdk/jlink" --add-modules "$modules" --compress zip-9 --strip-debug --no-header-files --no-man-pages --output "$pack/runtime"
# libjvm.so keeps its static symbol table (.symtab, 5 MB of 30): strip it, as distributions do. The dynamic symbols
# stay, so the JVM and native access work unchanged; only a crash log's frames inside the JVM lose their names.
if command -v strip >/dev/null; then
    find "$pack/runtime/lib" -name '*.so' -exec strip --strip-unneeded {} +
else
    echo "gpu-pack: no strip (binutils) on PATH: the runtime keeps its native symbol tables (+5 MB)"
fi

# Checked with the pack's own java: a runtime that cannot start, or lacks a module the check needs, fails here.
"$pack/runtime/bin/java" -cp "$pack/lib/*" dev.kiln.bench.GpuPack "$pack" "$root"
echo "gpu-pack: $pack is ready. On the GPU machine: bash ${pack#"$root"/}/run   (results in \$OUT; bench/README.md, 'On a GPU machine')"
