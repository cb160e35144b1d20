package dev.kiln.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Checks the folder {@code ./kiln gpu-pack} makes (scripts/gpu-pack.sh): what a GPU machine with no JDK needs, within
 * what the device tool carries. The pack must stay under {@link #PACK_LIMIT} bytes, and the pack together with the
 * repository's files that travel (tracked, and untracked ones git does not ignore) under {@link #CARRY_LIMIT}.
 * Its runtime must have the Vector API module and no desktop module; its lib/ holds the runtime jars only (no JUnit,
 * no test jars: those sit apart in parity/, used by the parity suite alone).
 *
 * <pre>java -cp ... dev.kiln.bench.GpuPack target/gpu-pack .</pre>
 *
 * The script runs this with the pack's own runtime, so a runtime that cannot start fails the build of the pack too.
 */
public final class GpuPack {
    /** 48 MB, as the issue states it (decimal). */
    public static final long PACK_LIMIT = 48_000_000L;
    /** 64 MiB: what the device tool carries, the working tree and the carried paths together. */
    public static final long CARRY_LIMIT = 64L << 20;
    /** Files a pack cannot work without, relative to its root. */
    static final List<String> REQUIRED = List.of("run", "runtime/bin/java", "runtime/release", "python/gpu_peer.py", "python/peer_bench.py");
    /** Jars lib/ must hold, by name prefix. */
    static final List<String> REQUIRED_JARS = List.of("kiln-engine-", "kiln-cpu-", "kiln-cuda-", "kiln-bench-", "kiln-examples-");
    static final List<String> REQUIRED_MODULES = List.of("java.base", "jdk.incubator.vector");
    static final List<String> FORBIDDEN_MODULES = List.of("java.desktop");

    private GpuPack() {}

    /** What the check found: sizes, the runtime's modules, and each problem as one line (none: the pack is good). */
    public record Report(long packBytes, long repoBytes, List<String> modules, List<String> problems) {
        public Report { modules = List.copyOf(modules); problems = List.copyOf(problems); }
        public boolean ok() { return problems.isEmpty(); }
        public long carriedBytes() { return packBytes + repoBytes; }

        public String text() {
            StringBuilder s = new StringBuilder();
            s.append(String.format("pack        %,d bytes (%.1f MB of %.0f MB)%n", packBytes, packBytes / 1e6, PACK_LIMIT / 1e6));
            s.append(String.format("repository  %,d bytes (tracked and untracked-not-ignored files)%n", repoBytes));
            s.append(String.format("carried     %,d bytes (%.1f MiB of %d MiB)%n", carriedBytes(), carriedBytes() / 1048576.0, CARRY_LIMIT >> 20));
            s.append("modules     ").append(String.join(",", modules)).append('\n');
            for (String p : problems) s.append("PROBLEM     ").append(p).append('\n');
            return s.toString();
        }
    }

    /** Checks {@code pack}, with {@code repoBytes} for the repository files that travel beside it. */
    public static Report check(Path pack, long repoBytes) {
        List<String> problems = new ArrayList<>();
        if (!Files.isDirectory(pack)) return new Report(0, repoBytes, List.of(), List.of(pack + " is not a folder: run ./kiln gpu-pack"));
        long bytes = folderBytes(pack);
        for (String f : REQUIRED) if (!Files.exists(pack.resolve(f))) problems.add(f + " is missing from " + pack);
        if (Files.exists(pack.resolve("run")) && !Files.isExecutable(pack.resolve("run"))) problems.add("run is not executable");
        List<String> modules = modules(pack.resolve("runtime/release"));
        for (String m : REQUIRED_MODULES) if (Files.exists(pack.resolve("runtime/release")) && !modules.contains(m)) problems.add("the runtime lacks module " + m);
        for (String m : FORBIDDEN_MODULES) if (modules.contains(m)) problems.add("the runtime holds module " + m + ", which a GPU run never needs (jlink it out)");
        List<String> jars = names(pack.resolve("lib"));
        for (String prefix : REQUIRED_JARS) {
            if (jars.stream().noneMatch(j -> j.startsWith(prefix) && !j.endsWith("-tests.jar"))) problems.add("lib/ has no " + prefix + "*.jar");
        }
        for (String j : jars) {
            if (j.startsWith("junit-") || j.startsWith("opentest4j") || j.endsWith("-tests.jar")) problems.add("lib/" + j + " is a test jar: runtime jars only in lib/ (test jars go in parity/)");
        }
        if (bytes >= PACK_LIMIT) problems.add(String.format("the pack is %,d bytes, over the %,d-byte limit", bytes, PACK_LIMIT));
        if (bytes + repoBytes >= CARRY_LIMIT) {
            problems.add(String.format("the pack and the repository are %,d bytes together, over the device tool's %,d", bytes + repoBytes, CARRY_LIMIT));
        }
        return new Report(bytes, repoBytes, modules, problems);
    }

    /** The MODULES line of a jlink image's release file, or none when there is no such file. */
    static List<String> modules(Path release) {
        if (!Files.isRegularFile(release)) return List.of();
        try {
            for (String line : Files.readAllLines(release, StandardCharsets.UTF_8)) {
                if (line.startsWith("MODULES=")) return Arrays.asList(line.substring(8).replace("\"", "").trim().split("\\s+"));
            }
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + release, e);
        }
    }

    private static List<String> names(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + dir, e);
        }
    }

    /** Bytes of every regular file under {@code dir} (links not followed). */
    static long folderBytes(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(GpuPack::size).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("walking " + dir, e);
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new UncheckedIOException("size of " + p, e);
        }
    }

    /** Bytes of the files git would send from {@code repo}: tracked, and untracked ones it does not ignore. */
    static long repoBytes(Path repo) {
        try {
            Process git = new ProcessBuilder("git", "-C", repo.toString(), "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!git.waitFor(60, TimeUnit.SECONDS) || git.exitValue() != 0) {
                throw new IllegalStateException("git ls-files failed in " + repo + ": is it a git checkout with git on PATH?");
            }
            long total = 0;
            for (String f : out.split("\0")) {
                if (f.isEmpty()) continue;
                Path p = repo.resolve(f);
                if (Files.isRegularFile(p)) total += size(p);   // a deleted but still tracked file travels as nothing
            }
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException("running git in " + repo, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing " + repo, e);
        }
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: GpuPack <pack folder> <repository root>");
            System.exit(2);
        }
        Report r = check(Path.of(args[0]), repoBytes(Path.of(args[1])));
        System.out.print(r.text());
        if (!r.ok()) System.exit(1);
    }
}
