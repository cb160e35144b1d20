package dev.kiln.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Data-parallel gradient buckets: the gradients of one training step grouped, in the order the backward pass produces
 * them, into buckets of at most a size cap, each laid out in one flat buffer so that one all-reduce (NCCL) sums it
 * across ranks. A bucket's all-reduce can start as soon as its last gradient is produced, while the backward pass goes
 * on with the layers below: that is the overlap. (PyTorch's DistributedDataParallel does the same, with the
 * parameters in reverse registration order; {@link #fromForwardOrder} gives that order.)
 *
 * <p>With one rank there is nothing to sum: the plan has no buckets and the step does no all-reduce.
 *
 * <pre>{@code
 * var plan = GradientBuckets.plan(List.of(new Gradient("dense_2/kernel", 4 * 512), ...), 25 << 20, ranks);
 * for (int g : producedOrder) for (Bucket b : plan.readyAfter(g)) nccl.allReduce(b.offset(), b.bytes(), ...);
 * }</pre>
 */
public record GradientBuckets(List<Gradient> gradients, List<Bucket> buckets, long capBytes, int ranks) {
    /** Offsets of gradients inside a bucket, and of buckets in the flat buffer, are multiples of this (cudaMalloc's alignment). */
    public static final int ALIGNMENT = 256;
    /** PyTorch DDP's default cap, 25 MiB. */
    public static final long DEFAULT_CAP_BYTES = 25L << 20;

    public GradientBuckets {
        gradients = List.copyOf(gradients);
        buckets = List.copyOf(buckets);
    }

    /** One parameter's gradient: its name and size in bytes. */
    public record Gradient(String name, long bytes) {
        public Gradient {
            if (bytes <= 0) throw new IllegalArgumentException("gradient " + name + " has " + bytes + " bytes; a gradient has at least one element");
        }
    }

    /**
     * A bucket: the gradients it holds (indices into the production order, ascending), where each starts inside the
     * bucket, and where the bucket starts in the flat buffer of all buckets and how many bytes it spans.
     */
    public record Bucket(int index, List<Integer> members, List<Long> memberOffsets, long offset, long bytes) {
        public Bucket {
            members = List.copyOf(members);
            memberOffsets = List.copyOf(memberOffsets);
        }

        /** The member produced last: once it exists, the bucket's all-reduce can start. */
        public int lastMember() { return members.getLast(); }
    }

    /**
     * Buckets for {@code productionOrder} (the gradients in the order the backward pass produces them) of at most
     * {@code capBytes} each, aligned; a gradient larger than the cap gets a bucket of its own. No buckets when
     * {@code ranks == 1}.
     */
    public static GradientBuckets plan(List<Gradient> productionOrder, long capBytes, int ranks) {
        if (capBytes <= 0) throw new IllegalArgumentException("bucket cap must be positive, got " + capBytes + " bytes");
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        if (ranks == 1) return new GradientBuckets(productionOrder, List.of(), capBytes, 1);
        List<Bucket> buckets = new ArrayList<>();
        List<Integer> members = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        long inBucket = 0, flat = 0;
        for (int i = 0; i < productionOrder.size(); i++) {
            long bytes = productionOrder.get(i).bytes();
            long start = align(inBucket);
            if (!members.isEmpty() && start + bytes > capBytes) {
                buckets.add(new Bucket(buckets.size(), members, offsets, flat, inBucket));
                flat = align(flat + inBucket);
                members = new ArrayList<>();
                offsets = new ArrayList<>();
                start = 0;
            }
            members.add(i);
            offsets.add(start);
            inBucket = start + bytes;
        }
        if (!members.isEmpty()) buckets.add(new Bucket(buckets.size(), members, offsets, flat, inBucket));
        return new GradientBuckets(productionOrder, buckets, capBytes, ranks);
    }

    /** The production order when the backward pass runs the layers in reverse: the parameters' forward order reversed. */
    public static List<Gradient> fromForwardOrder(List<Gradient> forwardOrder) {
        List<Gradient> reversed = new ArrayList<>(forwardOrder);
        Collections.reverse(reversed);
        return reversed;
    }

    /** Whether the step all-reduces at all (more than one rank). */
    public boolean allReduces() { return ranks > 1; }

    /** The buckets whose all-reduce can start once gradient {@code produced} (production index) exists. */
    public List<Bucket> readyAfter(int produced) {
        List<Bucket> ready = new ArrayList<>(1);
        for (Bucket b : buckets) if (b.lastMember() == produced) ready.add(b);
        return ready;
    }

    /** Bytes of the flat buffer that holds every bucket. */
    public long flatBytes() { return buckets.isEmpty() ? 0 : buckets.getLast().offset() + buckets.getLast().bytes(); }

    static long align(long bytes) { return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT; }
}
