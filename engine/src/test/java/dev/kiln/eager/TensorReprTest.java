package dev.kiln.eager;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorReprTest {
    @Test
    void printsValuesNestedByAxisWithShapeAndDtypeLikeNumPy() {
        assertEquals("tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)", Tensor.of(Shape.of(2, 2), 1, 2, 3, 4).toString());
        assertEquals("tensor(0.5, shape=[], dtype=float32)", Tensor.scalar(0.5).toString());
        assertEquals("tensor([0.25, -1.5, nan], shape=[3], dtype=float32)", Tensor.of(Shape.of(3), 0.25f, -1.5f, Float.NaN).toString());
        assertEquals("tensor([0.3333, 1.000e-05], shape=[2], dtype=float32)", Tensor.of(Shape.of(2), 1f / 3, 1e-5f).toString());
    }

    @Test
    void largeTensorsShowTheirEdges() {
        float[] v = new float[2000];
        for (int i = 0; i < v.length; i++) v[i] = i;
        String s = Tensor.of(Shape.of(2000), v).toString();
        assertEquals("tensor([0., 1., 2., ..., 1997., 1998., 1999.], shape=[2000], dtype=float32)", s);
        String m = Tensor.of(Shape.of(40, 50), v).toString();
        assertTrue(m.startsWith("tensor([[0., 1., 2., ..., 47., 48., 49.],\n        [50., 51., 52., ..., 97., 98., 99.],"), m);
        assertTrue(m.contains("...,\n") && m.endsWith("1997., 1998., 1999.]], shape=[40, 50], dtype=float32)"), m);
    }
}
