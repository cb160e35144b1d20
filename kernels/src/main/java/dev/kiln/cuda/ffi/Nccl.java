package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * NCCL through {@link CudaApis#NCCL}: communicators over the GPUs of this process and the float all-reduce that
 * data-parallel training sums its gradient buckets with ({@link dev.kiln.cuda.GradientBuckets}). With one rank an
 * all-reduce is a copy; the trainer skips it then (a one-rank plan has no buckets). Failures throw
 * {@link CudaException} with ncclGetErrorString's text.
 *
 * <pre>{@code
 * Nccl nccl = Nccl.load(Arena.global()).orElseThrow();
 * try (Nccl.Comm comm = nccl.initAll(1)) { comm.allReduceSum(grads, grads, count, stream); }
 * }</pre>
 */
public final class Nccl {
    public static final int NCCL_SUCCESS = 0;
    public static final int NCCL_FLOAT32 = 7;
    public static final int NCCL_BFLOAT16 = 9;
    public static final int NCCL_SUM = 0;
    public static final int NCCL_AVG = 4;
    /** sizeof(ncclUniqueId), passed by value to ncclCommInitRank. */
    public static final int NCCL_UNIQUE_ID_BYTES = 128;

    private final CFunctions.Bound lib;

    private Nccl(CFunctions.Bound lib) { this.lib = lib; }

    public static Optional<Nccl> load(Arena arena) {
        return SharedLibrary.find(CudaApis.NCCL_SONAMES, arena).library().map(Nccl::bind);
    }

    public static Nccl bind(SharedLibrary libnccl) { return new Nccl(CudaApis.NCCL.bind(libnccl)); }

    /** "major.minor.patch" from ncclGetVersion (major·10000 + minor·100 + patch since NCCL 2.9). */
    public String version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(lib.status("ncclGetVersion", v), "ncclGetVersion");
            return versionText(v.get(JAVA_INT, 0));
        }
    }

    public static String versionText(int code) {
        return code >= 20900 ? code / 10000 + "." + code % 10000 / 100 + "." + code % 100 : code / 1000 + "." + code % 1000 / 100 + "." + code % 100;
    }

    /** The one-rank communicator over device 0 (ncclCommInitAll of one device): all-reduces are copies. */
    public Comm initAll(int ranks) {
        if (ranks != 1) throw new IllegalArgumentException("Nccl.initAll: " + ranks + " ranks asked; it makes the one-rank communicator, use commsForDevices(" + ranks + ") for several");
        return commsForDevices(ranks).getFirst();
    }

    /**
     * One communicator per device 0..count-1 of this process, rank r on device r (ncclCommInitAll): one thread per rank
     * then issues that rank's collectives. Close each.
     */
    public List<Comm> commsForDevices(int count) {
        if (count < 1) throw new IllegalArgumentException("Nccl.commsForDevices: " + count + " devices asked; at least one");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comms = arena.allocate(ADDRESS, count);
            MemorySegment devices = arena.allocate(JAVA_INT, count);
            for (int d = 0; d < count; d++) devices.setAtIndex(JAVA_INT, d, d);
            check(lib.status("ncclCommInitAll", comms, count, devices), "ncclCommInitAll");
            List<Comm> all = new ArrayList<>(count);
            for (int r = 0; r < count; r++) all.add(new Comm(comms.getAtIndex(ADDRESS, r)));
            return List.copyOf(all);
        }
    }

    /** A communicator; closing it destroys it. */
    public final class Comm implements AutoCloseable {
        private final MemorySegment comm;
        private boolean aborted;

        private Comm(MemorySegment comm) { this.comm = comm; }

        public int count() { return intOut("ncclCommCount"); }

        public int rank() { return intOut("ncclCommUserRank"); }

        private int intOut(String call) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(JAVA_INT);
                check(lib.status(call, comm, out), call);
                return out.get(JAVA_INT, 0);
            }
        }

        /** Sums {@code count} floats at {@code send} over the ranks into {@code recv} (device pointers; may be equal), on {@code stream}. */
        public void allReduceSum(long send, long recv, long count, long stream) {
            check(lib.status("ncclAllReduce", MemorySegment.ofAddress(send), MemorySegment.ofAddress(recv), count, NCCL_FLOAT32, NCCL_SUM,
                    comm, MemorySegment.ofAddress(stream)), "ncclAllReduce");
        }

        /** Averages {@code count} floats at {@code send} over the ranks into {@code recv} (ncclAvg, NCCL 2.10+), on {@code stream}. */
        public void allReduceAverage(long send, long recv, long count, long stream) {
            check(lib.status("ncclAllReduce", MemorySegment.ofAddress(send), MemorySegment.ofAddress(recv), count, NCCL_FLOAT32, NCCL_AVG,
                    comm, MemorySegment.ofAddress(stream)), "ncclAllReduce");
        }

        /** Another rank failed: ends this communicator's pending and future collectives (ncclCommAbort); close then does nothing. */
        public synchronized void abort() {
            if (aborted) return;
            aborted = true;
            check(lib.status("ncclCommAbort", comm), "ncclCommAbort");
        }

        @Override public synchronized void close() {
            if (aborted) return;   // ncclCommAbort freed it
            aborted = true;
            check(lib.status("ncclCommDestroy", comm), "ncclCommDestroy");
        }
    }

    /** Calls issued between groupStart and groupEnd are launched together (one per bucket, say). */
    public void groupStart() { check(lib.status("ncclGroupStart"), "ncclGroupStart"); }

    public void groupEnd() { check(lib.status("ncclGroupEnd"), "ncclGroupEnd"); }

    /** Throws {@link CudaException} with ncclGetErrorString's text unless {@code status} is ncclSuccess. */
    public void check(int status, String call) {
        if (status == NCCL_SUCCESS) return;
        String text = "NCCL error " + status;
        if (lib.has("ncclGetErrorString")) {
            MemorySegment s = lib.pointer("ncclGetErrorString", status);
            if (!s.equals(MemorySegment.NULL)) text = s.reinterpret(4096).getString(0);
        }
        throw new CudaException(call, status, "ncclResult " + status, text);
    }
}
