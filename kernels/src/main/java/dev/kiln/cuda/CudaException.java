package dev.kiln.cuda;

/**
 * A CUDA driver call returned an error. Carries the call, the CUresult code and the driver's own
 * name and text for it (e.g. {@code cuInit failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected}).
 */
public final class CudaException extends RuntimeException {
    private final String call;
    private final int status;

    public CudaException(String call, int status, String errorName, String errorText) {
        super(call + " failed: " + errorName + " (" + status + "): " + errorText);
        this.call = call;
        this.status = status;
    }

    /** The driver function that failed, e.g. "cuInit". */
    public String call() { return call; }

    /** The CUresult it returned. */
    public int status() { return status; }
}
