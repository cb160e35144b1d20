package dev.kiln.cuda.emu;

import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.NativeDriver;

import java.lang.foreign.Arena;

/**
 * The device the kernel tests run on: a real GPU through {@link NativeDriver} when libcuda loads
 * and sees a device (so the same tests check the hardware), else the {@link EmulatedDriver}.
 * Set -Dkiln.cuda.test=emulated to force the emulator, or -Dkiln.cuda.test=gpu to require a GPU (the parity suite on a
 * GPU machine: there, falling back to the emulator would pass without checking the hardware).
 */
public final class TestDevice {
    /** What the kernel tests ran on, for the summary line. */
    static volatile String used = "emulated device";

    /** "emulated device", or "GPU <name>" once a test has opened the real one. */
    public static String used() { return used; }

    private TestDevice() {}

    /** An initialised driver with a current context; close it with {@link #close(CudaDriver)}. */
    public static CudaDriver open() {
        if (!"emulated".equals(System.getProperty("kiln.cuda.test"))) {
            var gpu = NativeDriver.load(Arena.global());
            if (gpu.isPresent()) {
                NativeDriver d = gpu.get();
                d.init();
                if (d.deviceCount() > 0) {
                    d.contextCreate(0);
                    used = "GPU " + d.deviceName(0);
                    return d;
                }
            }
        }
        if ("gpu".equals(System.getProperty("kiln.cuda.test"))) {
            throw new IllegalStateException("-Dkiln.cuda.test=gpu but no GPU: libcuda.so.1 did not load or sees no device "
                    + "(check nvidia-smi); drop the property to run on the emulated device");
        }
        EmulatedDriver emulated = new EmulatedDriver();
        emulated.init();
        return emulated;
    }

    public static void close(CudaDriver driver) {
        if (driver instanceof EmulatedDriver e) e.close();
        else if (driver != null) driver.contextSynchronize();
    }
}
