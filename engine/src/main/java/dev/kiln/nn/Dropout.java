package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.kiln.graph.Ops.dropout;

/**
 * Inverted dropout during training, identity in inference. The mask is drawn from a
 * counter-based generator keyed by the layer's seed and the step, so runs are reproducible.
 */
public final class Dropout extends AbstractLayer<Dropout> {
    private final double rate;
    private final Long fixedSeed;
    private long seed;

    private Dropout(double rate, Long seed) {
        if (!(rate >= 0 && rate < 1)) throw new IllegalArgumentException("Dropout rate must be in [0, 1), got " + rate);
        this.rate = rate;
        this.fixedSeed = seed;
    }

    public static Dropout of(double rate) { return new Dropout(rate, null); }

    /** A fixed seed; otherwise one is drawn from the model's seed when built. */
    public Dropout seed(long s) { return keepName(new Dropout(rate, s)); }

    public double rate() { return rate; }

    @Override public String type() { return "Dropout"; }

    @Override public Shape outputShape(Shape input) { return input; }

    @Override protected void createWeights(Shape input, BuildContext ctx) {
        seed = fixedSeed != null ? fixedSeed : ctx.random().nextLong();
    }

    @Override public Node call(Node x, CallContext ctx) {
        if (!ctx.training() || rate == 0) return x;
        return dropout(x, ctx.step(), rate, seed);
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("rate", rate);
        c.put("seed", seed);
        return c;
    }

    static Dropout fromConfig(Map<String, Object> c) {
        return new Dropout(LayerConfig.real(c, "rate"), LayerConfig.longInteger(c, "seed"));
    }
}
