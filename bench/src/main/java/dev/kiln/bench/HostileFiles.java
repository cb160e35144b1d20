package dev.kiln.bench;

import dev.kiln.data.Csv;
import dev.kiln.data.Idx;
import dev.kiln.io.Safetensors;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Time and heap of loading hostile files (issue 14, point 3): each case is generated once into a folder,
 * then loaded in a fresh JVM per case and heap setting (-Xmx512m and the JVM's default), so every
 * figure is a cold first load. Not a test: it measures, it does not assert.
 *
 * <pre>
 * java -cp engine/target/classes:bench/target/classes dev.kiln.bench.HostileFiles --dir /tmp/hostile [--cases st-keys,csv-line]
 * </pre>
 *
 * Per case and heap it prints the load's wall time and its thread's CPU time (the machine may be busy), the peak heap (the sum of every heap pool's peak
 * since just before the load: an upper bound, since pools peak at different moments), the heap after
 * a full GC minus the heap before (what the failed load left behind), and how the load ended.
 */
public final class HostileFiles {
    /** Case name, then what it is, as the issue names it. */
    static final String[][] CASES = {
            {"st-array", "safetensors header [{},{},...] just under 100 MB"},
            {"st-wide-list", "safetensors header {\"a\":[{},{},...]} just under 100 MB"},
            {"st-shape", "safetensors tensor with a 20M-entry shape list"},
            {"st-keys", "safetensors header with 6.7M keys"},
            {"st-deep", "safetensors header nested 50M deep, just under 100 MB"},
            {"st-string", "safetensors metadata value of one 99 MB string"},
            {"idx-gzip-bomb", "1.9 MB gzip IDX whose header claims 2e9 bytes"},
            {"csv-line", "CSV with one 10 MB line (a single field)"},
            {"csv-line-fields", "CSV with one 10 MB line of 5M fields"},
            {"csv-columns", "CSV with a 1.5M-column header"},
    };
    private static final long HEADER_LIMIT = 100_000_000;

    private HostileFiles() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = Args.parse(argv);
        Path dir = Path.of(a.getOrDefault("dir", "/tmp/kiln-hostile"));
        if (a.containsKey("load")) {
            load(a.get("load"), dir);
            return;
        }
        Files.createDirectories(dir);
        List<String> names = new ArrayList<>();
        for (String[] c : CASES) names.add(c[0]);
        if (a.containsKey("cases")) names = List.of(a.get("cases").split(","));
        for (String n : names) make(n, dir);
        System.out.println("| case | heap | load ms (wall) | load ms (thread CPU) | peak heap MB | heap left MB | outcome |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String n : names) {
            for (String xmx : new String[] {"-Xmx512m", "default"}) {
                System.out.println("| " + n + " | " + xmx + " | " + child(n, dir, xmx) + " |");
            }
        }
    }

    /** Runs one case in a child JVM and returns its table cells. */
    static String child(String name, Path dir, String xmx) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (!xmx.equals("default")) cmd.add(xmx);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), HostileFiles.class.getName(), "--load", name, "--dir", dir.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out;
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "- | - | - | - | no end after 180 s";
        }
        out = p.getInputStream().readAllBytes();
        String text = new String(out, StandardCharsets.UTF_8).strip();
        int at = text.lastIndexOf("RESULT ");
        return at < 0 ? "- | - | - | - | child failed: " + text.replace('\n', ' ') : text.substring(at + 7);
    }

    /** In the child: loads one case, then prints "RESULT wall ms | CPU ms | peak MB | left MB | outcome". */
    static void load(String name, Path dir) {
        Path file = dir.resolve(fileName(name));
        List<MemoryPoolMXBean> heapPools = new ArrayList<>();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) if (pool.getType() == MemoryType.HEAP) heapPools.add(pool);
        long before = heapAfterGc();
        for (MemoryPoolMXBean pool : heapPools) pool.resetPeakUsage();
        String outcome;
        var threads = ManagementFactory.getThreadMXBean();
        long c0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        try {
            switch (name.substring(0, name.indexOf('-'))) {
                case "st" -> Safetensors.read(file);
                case "idx" -> Idx.read(file);
                case "csv" -> Csv.read(file);
                default -> throw new IllegalArgumentException("unknown case " + name);
            }
            outcome = "loaded";
        } catch (OutOfMemoryError e) {
            outcome = "OutOfMemoryError";
        } catch (Exception e) {
            String m = String.valueOf(e.getMessage());
            outcome = e.getClass().getSimpleName() + ": " + (m.length() > 160 ? m.substring(0, 160) + "..." : m);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long cpuMs = (threads.getCurrentThreadCpuTime() - c0) / 1_000_000;
        long peak = 0;
        for (MemoryPoolMXBean pool : heapPools) peak += pool.getPeakUsage().getUsed();
        long left = heapAfterGc() - before;
        System.out.printf("RESULT %d | %d | %.0f | %.1f | %s%n", ms, cpuMs, peak / 1e6, left / 1e6, outcome.replace('|', '/').replace('\n', ' '));
    }

    static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static String fileName(String name) {
        return name + (name.startsWith("st") ? ".safetensors" : name.startsWith("idx") ? ".idx.gz" : ".csv");
    }

    /** Writes the case's file unless it is there already. */
    static void make(String name, Path dir) throws IOException {
        Path file = dir.resolve(fileName(name));
        if (Files.exists(file)) return;
        Path tmp = dir.resolve(fileName(name) + ".part");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            switch (name) {
                case "st-array" -> safetensorsHeader(out, "[", "{},", (HEADER_LIMIT - 8) / 3, "{}]", "");
                case "st-wide-list" -> safetensorsHeader(out, "{\"a\":[", "{},", (HEADER_LIMIT - 16) / 3, "{}]}", "");
                case "st-shape" -> safetensorsHeader(out, "{\"t\":{\"dtype\":\"F32\",\"shape\":[", "1,", 20_000_000 - 1, "1],\"data_offsets\":[0,4]}}", "\0\0\0\0");
                case "st-deep" -> {
                    long k = (HEADER_LIMIT - 16) / 2;
                    writeHeaderLength(out, 6 + 2 * k);
                    ascii(out, "{\"a\":");
                    repeat(out, "[", k);
                    repeat(out, "]", k);
                    ascii(out, "}");
                }
                case "st-keys" -> {
                    // 6.7M keys of 7 digits: {"0000000":0,...} is 12 bytes a key
                    int keys = 6_700_000;
                    writeHeaderLength(out, 2 + 12L * keys - 1);
                    ascii(out, "{");
                    byte[] key = "\"0000000\":0,".getBytes(StandardCharsets.US_ASCII);
                    for (int i = 0; i < keys; i++) {
                        int v = i;
                        for (int d = 7; d >= 1; d--) { key[d] = (byte) ('0' + v % 10); v /= 10; }
                        out.write(key, 0, i == keys - 1 ? key.length - 1 : key.length);
                    }
                    ascii(out, "}");
                }
                case "st-string" -> safetensorsHeader(out, "{\"__metadata__\":{\"m\":\"", "x", 99_000_000, "\"}}", "");
                case "idx-gzip-bomb" -> {
                    // ubyte, rank 1, [2e9], then 2e9 zero bytes: deflate's ~1030:1 ceiling makes it ~1.9 MB
                    try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16) {{ def.setLevel(Deflater.BEST_COMPRESSION); }}) {
                        gz.write(ByteBuffer.allocate(8).putInt(0x0801).putInt(2_000_000_000).array());
                        byte[] zeros = new byte[1 << 20];
                        for (long left = 2_000_000_000L; left > 0; left -= zeros.length) gz.write(zeros, 0, (int) Math.min(left, zeros.length));
                    }
                }
                case "csv-line" -> {
                    ascii(out, "a,b\n1,");
                    repeat(out, "x", 10_000_000);
                    ascii(out, "\n2,y\n");
                }
                case "csv-line-fields" -> {
                    ascii(out, "a,b\n");
                    repeat(out, "1,", 5_000_000);
                    ascii(out, "1\n2,3\n");
                }
                case "csv-columns" -> {
                    int columns = 1_500_000;
                    for (int c = 0; c < columns; c++) ascii(out, (c == 0 ? "c" : ",c") + c);
                    ascii(out, "\n");
                    for (int c = 0; c < columns; c++) ascii(out, c == 0 ? "1" : ",1");
                    ascii(out, "\n");
                }
                default -> throw new IllegalArgumentException("unknown case " + name);
            }
        }
        Files.move(tmp, file);
    }

    /** u64 header length, then prefix + unit × n + suffix as the header, then the data bytes. */
    static void safetensorsHeader(OutputStream out, String prefix, String unit, long n, String suffix, String data) throws IOException {
        writeHeaderLength(out, prefix.length() + unit.length() * n + suffix.length());
        ascii(out, prefix);
        repeat(out, unit, n);
        ascii(out, suffix);
        ascii(out, data);
    }

    static void writeHeaderLength(OutputStream out, long n) throws IOException {
        if (n >= HEADER_LIMIT) throw new IllegalStateException("header of " + n + " bytes is over the limit");
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array());
    }

    static void repeat(OutputStream out, String unit, long n) throws IOException {
        byte[] u = unit.getBytes(StandardCharsets.US_ASCII);
        byte[] block = new byte[u.length * 8192];
        for (int i = 0; i < 8192; i++) System.arraycopy(u, 0, block, i * u.length, u.length);
        for (long left = n; left > 0; left -= 8192) out.write(block, 0, (int) (Math.min(left, 8192) * u.length));
    }

    static void ascii(OutputStream out, String s) throws IOException { out.write(s.getBytes(StandardCharsets.US_ASCII)); }
}
