package dev.kiln.nn;

import dev.kiln.graph.Padding;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LayerWitherTest {
    @Test
    void namedThenActivationKeepsTheName() {
        Dense d = Dense.of(64).named("fc").relu();
        assertEquals("fc", d.name());
        assertEquals(Activation.RELU, d.activation());
    }

    @Test
    void namedCopiesAndLeavesTheOriginalAlone() {
        Dense base = Dense.of(8);
        Dense a = base.named("a"), b = base.named("b");
        assertNotSame(base, a);
        assertEquals("a", a.name());
        assertEquals("b", b.name());
        assertEquals("dense", base.name());
    }

    @Test
    void everyWitherKeepsTheName() {
        assertEquals("c", Conv2D.of(4, 3).named("c").tanh().strides(2).padding(Padding.SAME).noBias().name());
        assertEquals("bn", BatchNormalization.of().named("bn").momentum(0.9).epsilon(1e-3).name());
        assertEquals("drop", Dropout.of(0.2).named("drop").seed(3).name());
        assertEquals("pool", MaxPool2D.of(2).named("pool").strides(1).name());
        assertEquals("d", Dense.of(3).named("d").noBias().sigmoid().name());
    }

    @Test
    void denseAndConv2DOfferTheSameShorthands() {
        assertEquals(Activation.SOFTMAX, Conv2D.of(4, 3).softmax().activation());
        assertEquals(Activation.SIGMOID, Conv2D.of(4, 3).sigmoid().activation());
        assertEquals(Activation.TANH, Dense.of(4).tanh().activation());
        assertEquals(Activation.GELU, Dense.of(4).gelu().activation());
        assertEquals(Activation.ELU, Conv2D.of(4, 3).elu().activation());
    }

    @Test
    void aNamedLayerNamesItsModelsLayer() {
        Symbol in = Input.shape(3);
        Model m = Model.of(in, Dense.of(2).named("fc").relu().apply(in));
        assertEquals("fc", m.layers().get(0).name());
    }
}
