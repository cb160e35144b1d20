package dev.kiln.optim;

import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * Gradient clipping applied by an optimizer before its update, composed of elementwise ops and
 * reductions so it compiles and fuses with the step. Either part may be off (0).
 * <ul>
 *   <li>{@code value}: every gradient element clamped to [-value, value]
 *       (torch.nn.utils.clip_grad_value_, Keras's clipvalue).</li>
 *   <li>{@code norm}: all gradients scaled together by min(1, norm / (‖g‖ + 1e-6)), ‖g‖ the
 *       global L2 norm over every gradient (torch.nn.utils.clip_grad_norm_, whose 1e-6 we keep for
 *       parity; Keras's global_clipnorm differs only in that epsilon).</li>
 * </ul>
 * When both are set, values are clamped first, then the clamped gradients' norm is clipped.
 *
 * <pre>{@code Adam.lr(1e-3).clipNorm(1.0)   Sgd.lr(0.1).clipValue(0.5) }</pre>
 */
public record GradientClipping(double norm, double value) {
    /** torch.nn.utils.clip_grad_norm_'s guard against a zero norm. */
    public static final double NORM_EPSILON = 1e-6;
    public static final GradientClipping NONE = new GradientClipping(0, 0);

    public GradientClipping {
        if (!(norm >= 0) || Double.isInfinite(norm)) throw new IllegalArgumentException("clip norm must be finite and > 0 (0 turns it off), got " + norm);
        if (!(value >= 0) || Double.isInfinite(value)) throw new IllegalArgumentException("clip value must be finite and > 0 (0 turns it off), got " + value);
    }

    public GradientClipping withNorm(double c) {
        if (!(c > 0)) throw new IllegalArgumentException("clipNorm needs a norm > 0, got " + c);
        return new GradientClipping(c, value);
    }

    public GradientClipping withValue(double v) {
        if (!(v > 0)) throw new IllegalArgumentException("clipValue needs a value > 0, got " + v);
        return new GradientClipping(norm, v);
    }

    public boolean enabled() { return norm > 0 || value > 0; }

    /** The clipped gradients, in order (the same nodes when clipping is off). */
    public List<Node> apply(List<Node> grads) {
        if (!enabled() || grads.isEmpty()) return grads;
        List<Node> out = new ArrayList<>(grads);
        if (value > 0) {
            for (int i = 0; i < out.size(); i++) out.set(i, minimum(maximum(out.get(i), scalar(-value)), scalar(value)));
        }
        if (norm > 0) {
            Node squares = null;
            for (Node g : out) {
                Node s = sumAll(square(g));
                squares = squares == null ? s : add(squares, s);
            }
            Node scale = minimum(scalar(1), div(scalar(norm), add(sqrt(squares), scalar(NORM_EPSILON))));
            for (int i = 0; i < out.size(); i++) out.set(i, mul(out.get(i), scale));
        }
        return out;
    }
}
