package dev.kiln.cpu;

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

    @Test void onlyTheVectorKernelReferencesTheIncubatorModule() throws IOException {
        for (Class<?> c : new Class<?>[] {ElementwiseKernels.class, ScalarElementwise.class, KernelChoice.class, StridedView.class,
                ReducePlan.class, FusedKernel.class, DropoutMask.class}) {
            assertFalse(classFileMentions(c, "jdk/incubator/vector"), c.getSimpleName() + " links jdk.incubator.vector");
        }
        assertTrue(classFileMentions(VectorElementwise.class, "jdk/incubator/vector"), "the check itself must see the vector kernel's references");
    }

    static boolean classFileMentions(Class<?> c, String name) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            // constant-pool UTF8 entries hold class names verbatim; ISO-8859-1 keeps bytes one-to-one
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1).contains(name);
        }
    }
}
