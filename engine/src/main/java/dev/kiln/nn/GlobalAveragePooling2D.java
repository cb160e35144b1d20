package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;

import java.util.List;
import java.util.Map;

import static dev.kiln.graph.Ops.mean;

/** Mean over height and width: [H, W, C] → [C]. */
public final class GlobalAveragePooling2D extends AbstractLayer<GlobalAveragePooling2D> {
    private GlobalAveragePooling2D() {}

    public static GlobalAveragePooling2D of() { return new GlobalAveragePooling2D(); }

    @Override public String type() { return "GlobalAveragePooling2D"; }
    @Override protected String defaultName() { return "global_average_pooling2d"; }

    @Override public Shape outputShape(Shape input) {
        if (input.rank() != 3) throw shapeError("an image [height, width, channels]", input);
        return Shape.of(input.dim(2));
    }

    @Override public Node call(Node x, CallContext ctx) { return mean(x, List.of(1, 2), false); }

    @Override public Map<String, Object> config() { return Map.of(); }

    static GlobalAveragePooling2D fromConfig(Map<String, Object> c) { return new GlobalAveragePooling2D(); }
}
