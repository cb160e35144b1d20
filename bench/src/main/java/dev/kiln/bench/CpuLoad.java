package dev.kiln.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How busy the rest of the machine was during a measurement: the share of all cores' time that
 * other processes used, from /proc/stat (all CPUs) minus /proc/self/stat (this process).
 * These machines are shared; a figure taken while others ran is rerun.
 */
final class CpuLoad {
    private final long total, busy, self;

    private CpuLoad(long total, long busy, long self) { this.total = total; this.busy = busy; this.self = self; }

    static CpuLoad now() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long user = Long.parseLong(cpu[1]), nice = Long.parseLong(cpu[2]), system = Long.parseLong(cpu[3]), idle = Long.parseLong(cpu[4]);
            long iowait = Long.parseLong(cpu[5]), irq = Long.parseLong(cpu[6]), softirq = Long.parseLong(cpu[7]), steal = cpu.length > 8 ? Long.parseLong(cpu[8]) : 0;
            long b = user + nice + system + irq + softirq + steal;
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split("\\s+");
            long mine = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            return new CpuLoad(b + idle + iowait, b, mine);
        } catch (IOException | RuntimeException e) {
            return new CpuLoad(0, 0, 0); // not Linux: no check
        }
    }

    /** Processors the machine has (what /proc/stat's "cpu" line sums over). */
    static int cpus() {
        return CPUS;
    }

    private static final int CPUS = countCpus();

    private static int countCpus() {
        try {
            return (int) Math.max(1, Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.matches("cpu\\d+ .*")).count());
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** Fraction of all CPU time between {@code start} and now used by other processes. */
    double othersSince(CpuLoad start) {
        long dt = total - start.total;
        if (dt <= 0) return 0;
        return Math.max(0, (double) ((busy - start.busy) - (self - start.self)) / dt);
    }
}
