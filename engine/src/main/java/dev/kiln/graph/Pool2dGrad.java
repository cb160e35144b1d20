package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * dx of {@link Pool2d}. Inputs: x, dy. Max pooling routes each dy to the first maximal element
 * of its window (as PyTorch and cuDNN do); average pooling spreads it over the window.
 */
public record Pool2dGrad(Pool2d pool) implements Primitive {
    public String name() { return pool.name() + "_grad"; }
    public int arity() { return 2; }

    public Shape inferShape(List<Shape> in) {
        Shape expected = pool.geometry(in.get(0)).outputShape();
        if (!in.get(1).equals(expected)) throw new IllegalArgumentException("dy has shape " + in.get(1) + ", expected " + expected);
        return in.get(0);
    }

    // Average pooling's gradient is linear in dy, its adjoint is average pooling again. Max pooling's
    // is linear in dy too but routes by argmax, which no op here expresses: it has no second derivative.
    public List<Node> gradient(Node out, Node g) {
        if (pool.kind() == Pool2d.Kind.MAX) {
            throw new UnsupportedOperationException("second derivative of max pooling is not supported (" + out.describe() + ")");
        }
        return Arrays.asList(null, Ops.pool2d(g, pool));
    }
}
