package dev.kiln.nn.applications;

import dev.kiln.nn.Layer;
import dev.kiln.nn.Model;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VGG16Test {
    static final List<String> KERAS_NAMES = List.of(
            "block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_conv2", "block2_pool",
            "block3_conv1", "block3_conv2", "block3_conv3", "block3_pool", "block4_conv1", "block4_conv2", "block4_conv3", "block4_pool",
            "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool");

    static List<String> names(Model m) {
        List<String> n = new ArrayList<>();
        for (Layer l : m.layers()) n.add(l.name());
        return n;
    }

    @Test
    void layerNamesAreKerasExactly() {
        assertEquals(KERAS_NAMES, names(VGG16.of(false, Shape.of(32, 32, 3))));
        List<String> top = new ArrayList<>(KERAS_NAMES);
        top.addAll(List.of("flatten", "fc1", "fc2", "predictions"));
        assertEquals(top, names(VGG16.of(true)));
        assertEquals(top, VGG16.layerNames(true));
    }

    @Test
    void featureShapesFollowTheFivePools() {
        assertEquals(Shape.of(7, 7, 512), VGG16.of(false).outputShape(0));
        assertEquals(Shape.of(2, 3, 512), VGG16.of(false, Shape.of(64, 100, 3)).outputShape(0));
        assertEquals(Shape.of(1000), VGG16.of(true).outputShape(0));
        assertEquals(Shape.of(10), VGG16.of(true, Shape.of(32, 32, 3), 10).outputShape(0));
    }

    @Test
    void noTopParameterCountIsKeras() {
        // Keras: VGG16(include_top=False).count_params() == 14,714,688, for any input size
        Model m = VGG16.of(false, Shape.of(32, 32, 3));
        assertArrayEquals(new long[] {14_714_688, 14_714_688}, m.parameterCounts());
    }

    @Test
    void frozenBaseHasNoTrainableWeights() {
        VGG16.Base base = VGG16.base(Shape.of(32, 32, 3)).setTrainable(false);
        Model m = base.model();
        assertEquals(14_714_688, m.parameterCounts()[0]);
        assertEquals(0, m.parameterCounts()[1]);
        assertTrue(m.trainableWeights().isEmpty());
    }

    @Test
    void tooSmallOrNonRgbInputsAreRefused() {
        for (Shape s : List.of(Shape.of(31, 64, 3), Shape.of(64, 16, 3), Shape.of(64, 64, 1), Shape.of(64, 64))) {
            ShapeException e = assertThrows(ShapeException.class, () -> VGG16.of(false, s));
            assertTrue(e.getMessage().contains("at least 32") && e.getMessage().contains(s.toString()), e.getMessage());
        }
    }

    @Test
    void preprocessIsKerasCaffeMode() {
        float[] px = {255f, 0f, 127.5f};  // R, G, B
        VGG16.preprocess(px, false);
        assertArrayEquals(new float[] {127.5f - 103.939f, -116.779f, 255f - 123.68f}, px, 1e-4f);
        float[] unit = {1f, 0f, 0.5f};
        VGG16.preprocess(unit, true);
        assertArrayEquals(new float[] {127.5f - 103.939f, -116.779f, 255f - 123.68f}, unit, 1e-4f);
    }
}
