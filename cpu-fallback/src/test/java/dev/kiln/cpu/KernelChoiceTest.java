package dev.kiln.cpu;

import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** The run-time choice and the rule that only VectorElementwise links the incubator module. */
class KernelChoiceTest {

    @Test void bestIsTheVectorKernelWhenTheIncubatorModuleIsLoaded() {
        // surefire runs with --add-modules jdk.incubator.vector (kiln.jvmArgs)
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        assertInstanceOf(VectorElementwise.class, ElementwiseKernels.best());
        assertInstanceOf(ScalarElementwise.class, ElementwiseKernels.scalar());
    }

    @Test void eachKernelSetIsOneKindThroughout() {
        ConvGeometry conv = Conv2d.of(1, Padding.SAME).geometry(Shape.of(1, 8, 8, 16), Shape.of(3, 3, 16, 16));
        Pool2d max = Pool2d.max(2);
        ConvGeometry pool = max.geometry(Shape.of(1, 8, 8, 16));
        ConvWorkspace ws = new ConvWorkspace();
        CpuKernels scalar = CpuKernels.scalar(), best = CpuKernels.best();
        assertInstanceOf(ScalarElementwise.class, scalar.elementwise());
        for (Conv2dKernel.Pass pass : Conv2dKernel.Pass.values()) assertInstanceOf(Conv2dScalar.Prepared.class, scalar.conv().prepare(conv, WorkerPoolTest.POOL, ws, pass));
        assertEquals(0, ws.size(), "the scalar twins reserve no convolution workspace");
        assertInstanceOf(Pool2dScalar.Prepared.class, scalar.pool().prepare(max, pool, WorkerPoolTest.POOL));
        assertFalse(scalar.splitElementwise(), "the scalar twins run on the calling thread");
        assertInstanceOf(VectorElementwise.class, best.elementwise());
        for (Conv2dKernel.Pass pass : Conv2dKernel.Pass.values()) assertInstanceOf(Conv2dKernel.class, best.conv().prepare(conv, WorkerPoolTest.POOL, ws, pass));
        assertInstanceOf(Pool2dKernel.class, best.pool().prepare(max, pool, WorkerPoolTest.POOL));
        assertTrue(best.splitElementwise());
        assertSame(best.elementwise(), ElementwiseKernels.best());
        assertSame(scalar.elementwise(), ElementwiseKernels.scalar());
    }

    @Test void onlyTheVectorKernelReferencesTheIncubatorModule() throws IOException {
        for (Class<?> c : new Class<?>[] {ElementwiseKernels.class, ScalarElementwise.class, KernelChoice.class, StridedView.class,
                ReducePlan.class, FusedKernel.class, DropoutMask.class, CpuKernels.class, GemmScalar.class, Conv2dScalar.class,
                Conv2dScalar.Prepared.class, Pool2dScalar.class, Pool2dScalar.Prepared.class}) {
            assertFalse(classFileMentions(c, "jdk/incubator/vector"), c.getSimpleName() + " links jdk.incubator.vector");
        }
        assertTrue(classFileMentions(VectorElementwise.class, "jdk/incubator/vector"), "the check itself must see the vector kernel's references");
    }

    static boolean classFileMentions(Class<?> c, String name) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class")) {
            // constant-pool UTF8 entries hold class names verbatim; ISO-8859-1 keeps bytes one-to-one
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1).contains(name);
        }
    }
}
