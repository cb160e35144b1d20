package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.kiln.graph.Ops.pool2d;

/**
 * Max or average pooling over NHWC images; {@link MaxPool2D} and {@link AvgPool2D} are its two
 * factories. Strides default to the pool size, padding to valid (Keras's defaults).
 */
public final class Pooling2D extends AbstractLayer<Pooling2D> {
    private final Pool2d op;

    Pooling2D(Pool2d op) { this.op = op; }

    public Pooling2D strides(int s) { return keepName(new Pooling2D(new Pool2d(op.kind(), op.windowH(), op.windowW(), s, s, op.padding()))); }
    public Pooling2D padding(Padding p) { return keepName(new Pooling2D(new Pool2d(op.kind(), op.windowH(), op.windowW(), op.strideH(), op.strideW(), p))); }
    public Pooling2D same() { return padding(Padding.SAME); }

    public Pool2d op() { return op; }

    @Override public String type() { return op.kind() == Pool2d.Kind.MAX ? "MaxPooling2D" : "AveragePooling2D"; }

    @Override protected String defaultName() { return op.kind() == Pool2d.Kind.MAX ? "max_pooling2d" : "average_pooling2d"; }

    @Override public Shape outputShape(Shape input) {
        if (input.rank() != 3) throw shapeError("an image [height, width, channels]", input);
        try {
            Shape out = op.geometry(Shape.of(1, input.dim(0), input.dim(1), input.dim(2))).outputShape();
            return Shape.of(out.dim(1), out.dim(2), out.dim(3));
        } catch (IllegalArgumentException e) {
            throw shapeError("an image of at least " + op.windowH() + "x" + op.windowW() + " (" + e.getMessage() + ")", input);
        }
    }

    @Override public Node call(Node x, CallContext ctx) { return pool2d(x, op); }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kind", op.kind().name());
        c.put("pool_size", List.of(op.windowH(), op.windowW()));
        c.put("strides", List.of(op.strideH(), op.strideW()));
        c.put("padding", op.padding().mode().name().toLowerCase());
        return c;
    }

    static Pooling2D fromConfig(Map<String, Object> c) {
        int[] p = LayerConfig.integers(c, "pool_size", 2), s = LayerConfig.integers(c, "strides", 2);
        return new Pooling2D(new Pool2d(LayerConfig.constant(c, "kind", Pool2d.Kind.class), p[0], p[1], s[0], s[1], Conv2D.padding(c)));
    }
}
