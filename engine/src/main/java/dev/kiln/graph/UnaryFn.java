package dev.kiln.graph;

import static dev.kiln.graph.Ops.*;

/**
 * Elementwise functions of one argument: the scalar meaning ({@link #apply}) and the gradient
 * ({@link #gradient}, given input x, output y and incoming gradient g), declared together.
 */
public enum UnaryFn {
    NEG {
        public double apply(double x) { return -x; }
        Node gradient(Node x, Node y, Node g) { return neg(g); }
    },
    EXP {
        public double apply(double x) { return Math.exp(x); }
        Node gradient(Node x, Node y, Node g) { return mul(g, y); }
    },
    LOG {
        public double apply(double x) { return Math.log(x); }
        Node gradient(Node x, Node y, Node g) { return div(g, x); }
    },
    SQRT {
        public double apply(double x) { return Math.sqrt(x); }
        Node gradient(Node x, Node y, Node g) { return div(g, mul(y, scalar(2))); }
    },
    RSQRT {
        public double apply(double x) { return 1.0 / Math.sqrt(x); }
        // d/dx x^-1/2 = -1/2 x^-3/2 = -y^3 / 2
        Node gradient(Node x, Node y, Node g) { return mul(g, mul(scalar(-0.5), mul(y, mul(y, y)))); }
    },
    ABS {
        public double apply(double x) { return Math.abs(x); }
        Node gradient(Node x, Node y, Node g) { return mul(g, sign(x)); }
    },
    SIGN {
        public double apply(double x) { return Math.signum(x); }
        Node gradient(Node x, Node y, Node g) { return zerosLike(g); }
    },
    RELU {
        public double apply(double x) { return x > 0 ? x : 0; }
        // reads the output, not the input (same mask): the forward relu can then fold into a GEMM epilogue
        Node gradient(Node x, Node y, Node g) { return mul(g, greater(y, scalar(0))); }
    },
    SIGMOID {
        public double apply(double x) { return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)); }
        Node gradient(Node x, Node y, Node g) { return mul(g, mul(y, sub(scalar(1), y))); }
    },
    TANH {
        public double apply(double x) { return Math.tanh(x); }
        Node gradient(Node x, Node y, Node g) { return mul(g, sub(scalar(1), mul(y, y))); }
    },
    // Casts to a tensor-core input format and back to f32 (see Rounding): the value a bf16/fp16/tf32 GEMM reads.
    // The gradient passes straight through, as autograd's gradient of a dtype cast (cast back to the input's type).
    ROUND_BF16 {
        public double apply(double x) { return Rounding.bf16((float) x); }
        Node gradient(Node x, Node y, Node g) { return g; }
    },
    ROUND_FP16 {
        public double apply(double x) { return Rounding.fp16((float) x); }
        Node gradient(Node x, Node y, Node g) { return g; }
    },
    ROUND_TF32 {
        public double apply(double x) { return Rounding.tf32((float) x); }
        Node gradient(Node x, Node y, Node g) { return g; }
    };

    /** The function in double precision: the reference meaning every kernel is tested against. */
    public abstract double apply(double x);

    abstract Node gradient(Node x, Node y, Node g);

    public String lowerName() { return name().toLowerCase(); }
}
