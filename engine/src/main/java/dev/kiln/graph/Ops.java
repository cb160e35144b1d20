package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The functional front of the op catalogue: one static factory per op (and a few compositions),
 * each returning a new {@link Node} with its shape inferred. Layers, losses, optimizers and
 * gradient rules all build graphs through here.
 *
 * <pre>{@code
 * Node x = input("x", Shape.of(64, 11));
 * Node y = relu(add(matmul(x, param(w)), param(b)));
 * }</pre>
 */
public final class Ops {
    private Ops() {}

    public static Node node(Op op, Node... inputs) { return new Node(op, Arrays.asList(inputs)); }
    public static Node node(Op op, List<Node> inputs) { return new Node(op, inputs); }
    /** A node replacing {@code origin} in a rewrite: same scope label and call site, for errors and dumps. */
    public static Node derived(Node origin, Op op, List<Node> inputs) { return new Node(op, inputs, origin); }

    // ---- leaves
    public static Node input(String name, Shape shape) { return node(new Placeholder(name, shape)); }
    public static Node param(Variable v) { return node(new Param(v)); }
    public static Node full(Shape shape, double value) { return node(new Full(shape, value)); }
    public static Node scalar(double value) { return full(Shape.SCALAR, value); }
    public static Node zerosLike(Node n) { return full(n.shape(), 0); }
    public static Node constant(Shape shape, float[] data) { return node(new Constant(shape, data)); }

    // ---- elementwise
    public static Node unary(UnaryFn fn, Node x) { return node(new Unary(fn), x); }
    public static Node neg(Node x) { return unary(UnaryFn.NEG, x); }
    public static Node exp(Node x) { return unary(UnaryFn.EXP, x); }
    public static Node log(Node x) { return unary(UnaryFn.LOG, x); }
    public static Node sqrt(Node x) { return unary(UnaryFn.SQRT, x); }
    public static Node rsqrt(Node x) { return unary(UnaryFn.RSQRT, x); }
    public static Node abs(Node x) { return unary(UnaryFn.ABS, x); }
    public static Node sign(Node x) { return unary(UnaryFn.SIGN, x); }
    public static Node relu(Node x) { return unary(UnaryFn.RELU, x); }
    public static Node sigmoid(Node x) { return unary(UnaryFn.SIGMOID, x); }
    public static Node tanh(Node x) { return unary(UnaryFn.TANH, x); }

    public static Node binary(BinaryFn fn, Node a, Node b) { return node(new Binary(fn), a, b); }
    public static Node add(Node a, Node b) { return binary(BinaryFn.ADD, a, b); }
    public static Node sub(Node a, Node b) { return binary(BinaryFn.SUB, a, b); }
    public static Node mul(Node a, Node b) { return binary(BinaryFn.MUL, a, b); }
    public static Node div(Node a, Node b) { return binary(BinaryFn.DIV, a, b); }
    public static Node maximum(Node a, Node b) { return binary(BinaryFn.MAX, a, b); }
    public static Node minimum(Node a, Node b) { return binary(BinaryFn.MIN, a, b); }
    public static Node pow(Node a, Node b) { return binary(BinaryFn.POW, a, b); }
    public static Node greater(Node a, Node b) { return binary(BinaryFn.GREATER, a, b); }
    public static Node greaterEqual(Node a, Node b) { return binary(BinaryFn.GREATER_EQUAL, a, b); }
    public static Node less(Node a, Node b) { return binary(BinaryFn.LESS, a, b); }
    public static Node lessEqual(Node a, Node b) { return binary(BinaryFn.LESS_EQUAL, a, b); }
    public static Node equal(Node a, Node b) { return binary(BinaryFn.EQUAL, a, b); }
    public static Node notEqual(Node a, Node b) { return binary(BinaryFn.NOT_EQUAL, a, b); }
    public static Node bceWithLogits(Node logits, Node targets) { return binary(BinaryFn.BCE_WITH_LOGITS, logits, targets); }
    public static Node bce(Node probabilities, Node targets) { return binary(BinaryFn.BCE, probabilities, targets); }
    public static Node where(Node cond, Node a, Node b) { return node(new Where(), cond, a, b); }
    public static Node square(Node x) { return mul(x, x); }

    // ---- reductions (axes may be negative; they are normalised and sorted)
    public static Node reduce(ReduceFn fn, Node x, List<Integer> axes, boolean keepDims) {
        List<Integer> norm = new ArrayList<>();
        for (int a : axes) { int n = x.shape().normalizeAxis(a); if (!norm.contains(n)) norm.add(n); }
        norm.sort(null);
        return node(new Reduce(fn, norm, keepDims), x);
    }
    public static Node sum(Node x, List<Integer> axes, boolean keepDims) { return reduce(ReduceFn.SUM, x, axes, keepDims); }
    public static Node mean(Node x, List<Integer> axes, boolean keepDims) { return reduce(ReduceFn.MEAN, x, axes, keepDims); }
    public static Node max(Node x, List<Integer> axes, boolean keepDims) { return reduce(ReduceFn.MAX, x, axes, keepDims); }
    /** Sum of every element, a scalar. */
    public static Node sumAll(Node x) { return x.shape().rank() == 0 ? x : sum(x, Transpose.identity(x.shape().rank()), false); }
    /** Mean of every element, a scalar. */
    public static Node meanAll(Node x) { return x.shape().rank() == 0 ? x : mean(x, Transpose.identity(x.shape().rank()), false); }

    // ---- movement
    public static Node reshape(Node x, Shape to) { return x.shape().equals(to) ? x : node(new View(to), x); }
    public static Node transpose(Node x, List<Integer> perm) { return node(new Transpose(perm), x); }
    public static Node broadcastTo(Node x, Shape to) { return x.shape().equals(to) ? x : node(new Broadcast(to), x); }
    public static Node slice(Node x, List<Integer> start, List<Integer> end) { return node(new Slice(start, end), x); }
    public static Node concat(int axis, List<Node> xs) { return node(new Concat(axis), xs); }
    public static Node pad(Node x, List<Integer> before, List<Integer> after, double value) { return node(new Pad(before, after, value), x); }
    public static Node flatten(Node x) { return reshape(x, Shape.of(x.shape().dim(0), x.shape().size() / x.shape().dim(0))); }

    // ---- linear algebra, convolution, pooling, normalisation
    public static Node matmul(Node a, Node b) { return matmul(a, b, false, false); }
    public static Node matmul(Node a, Node b, boolean transposeA, boolean transposeB) { return node(new MatMul(transposeA, transposeB), a, b); }
    public static Node conv2d(Node x, Node w, Conv2d conv) { return node(conv, x, w); }
    public static Node conv2dBackwardData(Node dy, Node w, Conv2d conv, Shape inputShape) { return node(new Conv2dBackwardData(conv, inputShape), dy, w); }
    public static Node conv2dBackwardFilter(Node x, Node dy, Conv2d conv, Shape filterShape) { return node(new Conv2dBackwardFilter(conv, filterShape), x, dy); }
    public static Node pool2d(Node x, Pool2d pool) { return node(pool, x); }
    public static Node pool2dGrad(Node x, Node dy, Pool2d pool) { return node(new Pool2dGrad(pool), x, dy); }
    public static Node batchNorm(Node x, Node mean, Node var, Node gamma, Node beta, double epsilon) { return node(new BatchNorm(epsilon), x, mean, var, gamma, beta); }
    /** Batch norm in training: {@code mean} and {@code var} must be x's own mean and biased variance over every axis but the last (see {@link BatchNorm}). */
    public static Node batchNormOfBatch(Node x, Node mean, Node var, Node gamma, Node beta, double epsilon) { return node(new BatchNorm(epsilon, true), x, mean, var, gamma, beta); }
    public static Node batchNormGrad(Node x, Node dy, Node mean, Node var, Node gamma, double epsilon) { return node(new BatchNormGrad(epsilon), x, dy, mean, var, gamma); }
    public static Node dropout(Node x, Node step, InvertedDropout op) { return node(op, x, step); }
    public static Node dropout(Node x, Node step, double rate, long seed) { return dropout(x, step, new InvertedDropout(rate, seed)); }
    public static Node softmax(Node x) { return node(new Softmax(false), x); }
    public static Node logSoftmax(Node x) { return node(new Softmax(true), x); }
    public static Node softmaxCrossEntropy(Node logits, Node labels) { return node(new SoftmaxCrossEntropy(), logits, labels); }
    public static Node oneHot(Node indices, int depth) { return node(new OneHot(depth), indices); }
    /** Per-example cross-entropy from logits and integer class labels stored as floats. */
    public static Node sparseSoftmaxCrossEntropy(Node logits, Node labels) { return softmaxCrossEntropy(logits, oneHot(labels, logits.shape().dim(-1))); }

    // ---- optimizer updates (in place, no value)
    public static Node sgdUpdate(Node param, Node grad, Node velocity, Node lr, SgdUpdate op) { return node(op, param, grad, velocity, lr); }
    /** An SGD step that runs only where the scalar {@code apply} is not 0; a null {@code apply} runs it always. */
    public static Node sgdUpdate(Node param, Node grad, Node velocity, Node lr, Node apply, SgdUpdate op) {
        return apply == null ? sgdUpdate(param, grad, velocity, lr, op) : node(op.onlyIfFlagged(), param, grad, velocity, lr, apply);
    }
    /** Writes {@code value} into variable {@code target} (a Param node) after the step's values are computed. */
    public static Node assign(Node target, Node value) {
        if (!(target.op() instanceof Param)) throw new IllegalArgumentException("assign needs a variable (param node) as target, got " + target.describe());
        return node(new Assign(), target, value);
    }
    public static Node adamUpdate(Node param, Node grad, Node m, Node v, Node lr, Node step, AdamUpdate op) { return node(op, param, grad, m, v, lr, step); }
    /** An Adam step that runs only where the scalar {@code apply} is not 0; a null {@code apply} runs it always. */
    public static Node adamUpdate(Node param, Node grad, Node m, Node v, Node lr, Node step, Node apply, AdamUpdate op) {
        return apply == null ? adamUpdate(param, grad, m, v, lr, step, op) : node(op.onlyIfFlagged(), param, grad, m, v, lr, step, apply);
    }
}
