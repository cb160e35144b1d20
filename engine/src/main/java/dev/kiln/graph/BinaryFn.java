package dev.kiln.graph;

import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * Elementwise functions of two broadcast arguments: the scalar meaning and the gradient with
 * respect to each argument (before un-broadcasting, which autodiff does). Comparisons return 1 or 0
 * and have no gradient. The two binary cross-entropies are elementwise losses (per element, not
 * reduced) so that they fuse with what feeds them.
 */
public enum BinaryFn {
    ADD {
        public double apply(double a, double b) { return a + b; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return List.of(g, g); }
    },
    SUB {
        public double apply(double a, double b) { return a - b; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return List.of(g, neg(g)); }
    },
    MUL {
        public double apply(double a, double b) { return a * b; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return List.of(mul(g, b), mul(g, a)); }
    },
    DIV {
        public double apply(double a, double b) { return a / b; }
        // d(a/b)/db = -a/b^2 = -y/b
        List<Node> gradient(Node a, Node b, Node y, Node g) { return List.of(div(g, b), neg(div(mul(g, y), b))); }
    },
    MAX {
        public double apply(double a, double b) { return Math.max(a, b); }
        // ties send the gradient to a, as PyTorch's maximum splits none and TF sends it to a
        List<Node> gradient(Node a, Node b, Node y, Node g) {
            Node aWins = greaterEqual(a, b);
            return List.of(mul(g, aWins), mul(g, sub(scalar(1), aWins)));
        }
    },
    MIN {
        public double apply(double a, double b) { return Math.min(a, b); }
        List<Node> gradient(Node a, Node b, Node y, Node g) {
            Node aWins = lessEqual(a, b);
            return List.of(mul(g, aWins), mul(g, sub(scalar(1), aWins)));
        }
    },
    POW {
        public double apply(double a, double b) { return Math.pow(a, b); }
        // d a^b/da = b a^(b-1); d a^b/db = a^b ln a (only meaningful for a > 0)
        List<Node> gradient(Node a, Node b, Node y, Node g) {
            return List.of(mul(g, mul(b, pow(a, sub(b, scalar(1))))), mul(g, mul(y, log(a))));
        }
    },
    GREATER {
        public double apply(double a, double b) { return a > b ? 1 : 0; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return none(); }
    },
    GREATER_EQUAL {
        public double apply(double a, double b) { return a >= b ? 1 : 0; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return none(); }
    },
    LESS {
        public double apply(double a, double b) { return a < b ? 1 : 0; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return none(); }
    },
    LESS_EQUAL {
        public double apply(double a, double b) { return a <= b ? 1 : 0; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return none(); }
    },
    EQUAL {
        public double apply(double a, double b) { return a == b ? 1 : 0; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return none(); }
    },
    NOT_EQUAL {
        public double apply(double a, double b) { return a != b ? 1 : 0; }
        List<Node> gradient(Node a, Node b, Node y, Node g) { return none(); }
    },
    /** Binary cross-entropy from a logit x and target z: max(x,0) - x z + log(1 + e^-|x|). */
    BCE_WITH_LOGITS {
        public double apply(double x, double z) { return Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x))); }
        List<Node> gradient(Node x, Node z, Node y, Node g) {
            return List.of(mul(g, sub(sigmoid(x), z)), neg(mul(g, x)));
        }
    },
    /**
     * Binary cross-entropy from a probability p and target z, with p clipped to [eps, 1 - eps]
     * (eps = 1e-7, as Keras does): -(z ln p + (1 - z) ln(1 - p)).
     */
    BCE {
        public double apply(double p, double z) {
            double q = Math.min(Math.max(p, BCE_EPSILON), 1 - BCE_EPSILON);
            return -(z * Math.log(q) + (1 - z) * Math.log(1 - q));
        }
        // inside the clip: (p - z) / (p (1 - p)); outside it the loss is flat in p
        List<Node> gradient(Node p, Node z, Node y, Node g) {
            Node inside = mul(greater(p, scalar(BCE_EPSILON)), less(p, scalar(1 - BCE_EPSILON)));
            Node q = minimum(maximum(p, scalar(BCE_EPSILON)), scalar(1 - BCE_EPSILON));
            Node dp = mul(inside, div(sub(q, z), mul(q, sub(scalar(1), q))));
            Node dz = sub(log(sub(scalar(1), q)), log(q));
            return List.of(mul(g, dp), mul(g, dz));
        }
    };

    public static final double BCE_EPSILON = 1e-7;

    public abstract double apply(double a, double b);

    abstract List<Node> gradient(Node a, Node b, Node y, Node g);

    public boolean isComparison() { return this.ordinal() >= GREATER.ordinal() && this.ordinal() <= NOT_EQUAL.ordinal(); }

    private static List<Node> none() { return java.util.Arrays.asList(null, null); }

    public String lowerName() { return name().toLowerCase(); }
}
