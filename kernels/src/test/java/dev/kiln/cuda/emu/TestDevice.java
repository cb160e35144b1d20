package dev.kiln.cuda.emu;

import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.NativeDriver;

import java.lang.foreign.Arena;

/**
 * The device the kernel tests run on: a real GPU through {@link NativeDriver} when libcuda loads
 * and sees a device (so the same tests check the hardware), else the {@link EmulatedDriver}.
 * Set -Dkiln.cuda.test=emulated to force the emulator.
 */
public final class TestDevice {
    /** What the kernel tests ran on, for the summary line. */
    static volatile String used = "emulated device";

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
        EmulatedDriver emulated = new EmulatedDriver();
        emulated.init();
        return emulated;
    }

    public static void close(CudaDriver driver) {
        if (driver instanceof EmulatedDriver e) e.close();
        else if (driver != null) driver.contextSynchronize();
    }
}
