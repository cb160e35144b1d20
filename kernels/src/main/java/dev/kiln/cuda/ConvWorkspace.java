package dev.kiln.cuda;

/**
 * The device scratch one program's cuDNN convolutions share: each pass needs room for the filter in cuDNN's layout
 * ({@link CudnnConvPlan#filterBytes()}) followed by its algorithm's workspace, and they run one after another on the
 * program's stream, so one block of the largest need serves all. Sized while the program is lowered, allocated once
 * with the program's buffers (freed with them), and read by the launches when they run.
 */
final class ConvWorkspace {
    /** cuDNN wants its workspace aligned; 256 bytes is what cudaMalloc gives. */
    static final long ALIGN = 256;

    private long bytes;
    private long address;

    /** Records a pass that needs {@code filterBytes} then {@code algorithmBytes}; returns the algorithm part's offset. */
    long require(long filterBytes, long algorithmBytes) {
        long offset = (filterBytes + ALIGN - 1) / ALIGN * ALIGN;
        bytes = Math.max(bytes, offset + algorithmBytes);
        return offset;
    }

    long bytes() { return bytes; }

    void bind(long deviceAddress) { this.address = deviceAddress; }

    /** The device address, valid once the program is compiled. */
    long address() {
        if (address == 0 && bytes > 0) throw new IllegalStateException("the convolution workspace (" + bytes + " bytes) was used before it was allocated");
        return address;
    }
}
