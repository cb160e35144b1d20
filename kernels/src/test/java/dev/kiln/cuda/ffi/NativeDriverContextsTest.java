package dev.kiln.cuda.ffi;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link NativeDriver}'s primary contexts against the stand-in libcuda in fake_cuda_libs.c (a retain count per
 * device, a current context per thread): releasing a context releases the device it was retained on, not device 0,
 * and {@code contextSetCurrent} makes it current on the calling thread. Devices 2 and 3, which no other test retains.
 */
class NativeDriverContextsTest {
    private static Arena arena;
    private static NativeDriver driver;
    private static MethodHandle retains, current;

    @BeforeAll static void build() throws Exception {
        Path so = FakeCudaLibraries.build().orElse(null);
        assumeTrue(so != null, "gcc not found at " + FakeCudaLibraries.GCC + ": the stand-in libraries cannot be built");
        arena = Arena.ofShared();
        SymbolLookup lookup = SymbolLookup.libraryLookup(so, arena);
        driver = NativeDriver.bind(new SharedLibrary("libfakecuda.so", so.toString(), lookup));
        Linker c = Linker.nativeLinker();
        retains = c.downcallHandle(lookup.findOrThrow("fakePrimaryRetains"), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        current = c.downcallHandle(lookup.findOrThrow("cuCtxGetCurrent"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    @AfterAll static void unload() { if (arena != null) arena.close(); }

    @Test
    void releasingAContextReleasesTheDeviceItWasRetainedOn() throws Throwable {
        long two = driver.contextCreate(2), three = driver.contextCreate(3);
        assertEquals(1, (int) retains.invokeExact(2));
        assertEquals(1, (int) retains.invokeExact(3));
        driver.contextDestroy(three);
        assertEquals(0, (int) retains.invokeExact(3), "device 3's context released");
        assertEquals(1, (int) retains.invokeExact(2), "device 2's context untouched");
        driver.contextDestroy(two);
        assertEquals(0, (int) retains.invokeExact(2));
        var twice = assertThrows(IllegalArgumentException.class, () -> driver.contextDestroy(two));
        assertEquals("context 0x1002 was not retained by this driver (contextCreate) or is already released", twice.getMessage());
    }

    @Test
    void aContextIsMadeCurrentOnTheCallingThread() throws Throwable {
        long two = driver.contextCreate(2), three = driver.contextCreate(3);   // each made current as it is retained
        assertEquals(three, currentContext());
        driver.contextSetCurrent(two);
        assertEquals(two, currentContext());
        driver.contextDestroy(two);
        driver.contextDestroy(three);
    }

    private static long currentContext() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            assertEquals(0, (int) current.invokeExact(out));
            return out.get(ADDRESS, 0).address();
        }
    }
}
