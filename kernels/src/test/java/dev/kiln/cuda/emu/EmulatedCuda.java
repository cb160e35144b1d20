package dev.kiln.cuda.emu;

import dev.kiln.cuda.CudaBackend;
import dev.kiln.cuda.CudaDevice;

/**
 * A {@link CudaBackend} over the test device: the emulated driver with {@link ReferenceSgemm} behind
 * the GEMM interface and this machine's nvcc compiling generated kernels. (On a GPU machine a
 * backend over the hardware is {@link CudaDevice#openNative()}: it needs cuBLAS and NVRTC.)
 */
public final class EmulatedCuda implements AutoCloseable {
    public final EmulatedDriver driver;
    public final ReferenceSgemm gemm;
    public final CudaDevice device;
    public final CudaBackend backend;

    public EmulatedCuda() {
        EmulatedDriver emulated = new EmulatedDriver();
        emulated.init();
        emulated.contextCreate(0);
        this.driver = emulated;
        this.gemm = new ReferenceSgemm(emulated);
        this.device = new CudaDevice(driver, gemm, Nvcc::ptx);
        this.backend = new CudaBackend(device);
    }

    /** Kernels this device has launched. */
    public long launches() { return driver.launches(); }

    @Override public void close() {
        EmulatedDevice.LAUNCHES.addAndGet(launches());
        device.allocator().close();
        driver.close();
    }
}
