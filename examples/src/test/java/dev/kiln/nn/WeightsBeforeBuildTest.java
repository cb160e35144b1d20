package dev.kiln.nn;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Reading a layer's weights before its model is built is an error that says so, not a NullPointerException. */
class WeightsBeforeBuildTest {
    private static void assertSaysBuild(IllegalStateException e, String layer) {
        assertTrue(e.getMessage().contains("layer '" + layer + "'") && e.getMessage().contains("no weights yet") && e.getMessage().contains("model.build()"), e.getMessage());
    }

    @Test
    void weightsReadBeforeTheModelIsBuiltNameTheLayerAndTheFix() {
        Dense dense = Dense.of(2).named("head");
        BatchNormalization bn = BatchNormalization.of().named("norm");
        Conv2D conv = Conv2D.of(4, 3).named("conv");
        Symbol in = Input.shape(6, 6, 1);
        Model m = Model.of(in, dense.apply(Flatten.of().apply(bn.apply(conv.apply(in)))));

        assertSaysBuild(assertThrows(IllegalStateException.class, () -> dense.kernel().value()), "head");
        assertSaysBuild(assertThrows(IllegalStateException.class, () -> dense.bias().value()), "head");
        assertSaysBuild(assertThrows(IllegalStateException.class, () -> conv.kernel().shape()), "conv");
        assertSaysBuild(assertThrows(IllegalStateException.class, () -> bn.movingVariance().value()), "norm");
        assertSaysBuild(assertThrows(IllegalStateException.class, () -> m.layer("norm").weights().get(0)), "norm");

        m.build();
        // after the build the same reads work: 6×6 valid 3×3 conv → 4×4×4 = 64 features into the Dense
        assertEquals(Shape.of(64, 2), dense.kernel().shape());
        assertEquals(Shape.of(4), bn.movingVariance().shape());
        assertEquals(2, conv.weights().size());
    }
}
