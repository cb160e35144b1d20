package dev.kiln.cuda.emu;

import dev.kiln.cuda.CudaBackend;
import dev.kiln.cuda.CudaDevice;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.NativeDriver;

/**
 * A {@link CudaBackend} over the test device: the emulated driver with {@link ReferenceSgemm} behind
 * the GEMM interface and this machine's nvcc compiling generated kernels. (On a GPU the kernel tests
 * run on the hardware, but a backend needs cuBLAS and NVRTC: {@link CudaDevice#openNative()}.)
 */
public final class EmulatedCuda implements AutoCloseable {
    public final CudaDriver driver;
    public final ReferenceSgemm gemm;
    public final CudaDevice device;
    public final CudaBackend backend;

    public EmulatedCuda() {
        EmulatedDriver emulated = new EmulatedDriver();
        emulated.init();
        emulated.contextCreate(0);
        this.driver = emulated;
        this.gemm = new ReferenceSgemm(driver);
        this.device = new CudaDevice(driver, gemm, Nvcc::ptx);
        this.backend = new CudaBackend(device);
    }

    /** Kernels this device has launched. */
    public long launches() { return driver instanceof EmulatedDriver e ? e.launches() : 0; }

    @Override public void close() {
        EmulatedDevice.LAUNCHES.addAndGet(launches());
        device.allocator().close();
        if (driver instanceof EmulatedDriver e) e.close();
        else if (driver instanceof NativeDriver) driver.contextSynchronize();
    }
}
