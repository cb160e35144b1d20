package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Precision;
import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.LossScale;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Mixed precision on the CPU backend (the exact emulation): training tracks f32, and FP16's loss scaling skips and grows. */
class MixedPrecisionTrainingTest {
    private static final int N = 384, FEATURES = 8, CLASSES = 3;

    /** Three Gaussian blobs in 8 dimensions, overlapping enough that the loss keeps falling for a few epochs. */
    private static Dataset blobs() {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = new float[N * FEATURES], y = new float[N];
        for (int i = 0; i < N; i++) {
            int c = i % CLASSES;
            y[i] = c;
            for (int j = 0; j < FEATURES; j++) x[i * FEATURES + j] = (float) (r.nextGaussian() + (j % CLASSES == c ? 1.5 : 0));
        }
        return Dataset.of(x, Shape.of(N, FEATURES), y, Shape.of(N));
    }

    private static Model mlp(Precision p) {
        Model m = Sequential.of(Input.shape(FEATURES), Dense.of(32).relu(), Dense.of(32).relu(), Dense.of(CLASSES).softmax()).seed(5);
        m.backend(new CpuBackend());
        m.compile(Adam.lr(3e-3), Loss.sparseCategoricalCrossentropy(), p);
        return m;
    }

    private static double train(Model m) {
        return m.fit(blobs(), Fit.epochs(6).batchSize(32).seed(3).verbose(false)).last("loss");
    }

    private static List<float[]> copies(Model m) {
        List<float[]> c = new ArrayList<>();
        for (var v : m.weights()) c.add(v.value().clone());
        return c;
    }

    private static int differing(List<float[]> a, List<float[]> b) {
        int d = 0;
        for (int i = 0; i < a.size(); i++) for (int j = 0; j < a.get(i).length; j++) if (a.get(i)[j] != b.get(i)[j]) d++;
        return d;
    }

    /**
     * bf16 keeps 8 significant bits: each product operand moves by at most 2^-9 relative, so each pre-activation
     * by about 2^-9·sqrt(fan-in) relative at random signs; over 72 Adam steps that perturbs the path, not the
     * optimum it descends to. Measured: f32 0.15551, bf16 0.15562, fp16 0.15539 (0.1% apart); the bound is 2% of
     * f32's loss, 20 times that, for other vector widths' summation orders. A missing
     * or wrong rounding (say, bits cleared instead of rounded, or the backward pass left in f32) still passes
     * this, which is why the weights are compared too and the roundings are tested bit-exact elsewhere.
     */
    @Test
    void bf16AndFp16TrainingTrackF32AndChangeTheWeights() {
        Model f32 = mlp(Precision.F32), bf16 = mlp(Precision.BF16), fp16 = mlp(Precision.FP16);
        double start = f32.evaluate(blobs(), 64).get("loss");
        double l32 = train(f32), l16b = train(bf16), l16h = train(fp16);
        System.out.printf("loss: start %.4f, f32 %.5f, bf16 %.5f, fp16 %.5f (fp16 %s)%n", start, l32, l16b, l16h, fp16.lossScale());
        assertTrue(l32 < 0.6 * start, "f32 did not learn: " + start + " -> " + l32);
        assertEquals(l32, l16b, 0.02 * l32, "bf16 final loss vs f32's");
        assertEquals(l32, l16h, 0.02 * l32, "fp16 final loss vs f32's");
        int changed = differing(copies(f32), copies(bf16));
        assertTrue(changed > copies(f32).stream().mapToInt(a -> a.length).sum() / 2, "bf16 weights equal f32's in all but " + changed + ": the rounding did not reach the products");
        assertTrue(differing(copies(bf16), copies(fp16)) > 0, "fp16 and bf16 runs gave the same weights");
        assertEquals(Precision.BF16, bf16.precision());
        assertNull(bf16.lossScale(), "bf16 does not scale unless asked");
        assertNotNull(fp16.lossScale());
    }

    /** The first 32 examples' features or labels. */
    private static float[] firstBatch(boolean features) {
        Dataset d = blobs();
        return java.util.Arrays.copyOf(features ? d.features(0) : d.labels(0), features ? 32 * FEATURES : 32);
    }

    /** One training step fed by hand, as the Trainer feeds it; returns the loss output. */
    private static float run(Executable e, float[] x, float[] y, int step) {
        e.setInput(e.program().inputSlot("x"), x);
        e.setInput(e.program().inputSlot("y"), y);
        e.setInput(e.program().inputSlot("lr"), new float[] {1e-2f});
        e.setInput(e.program().inputSlot("step"), new float[] {step});
        e.run();
        return e.outputScalar(0);
    }

    private static void step(Model m, Executable e, float[] x, float[] y, int step) {
        assertTrue(Float.isFinite(run(e, x, y, step)), "the loss output is the unscaled f32 loss, finite even when the gradients overflow");
    }

    /** The weights, then the optimizer's slots by name (an order that does not rest on how the slots were created). */
    private static List<float[]> state(Model m) {
        List<float[]> c = copies(m);
        List<Variable> slots = new ArrayList<>(m.optimizerState());
        slots.sort(java.util.Comparator.comparing(Variable::name));
        for (Variable v : slots) c.add(v.value().clone());
        return c;
    }

    /**
     * GradScaler's semantics end to end in the one compiled step, against the unscaled step as the reference: bf16
     * with power-of-two scales scales exactly, so every finite step must give the unscaled step's weights and Adam
     * state bit for bit; a step fed an infinity (steps 3 and 7) must change neither, halve the scale and count as
     * skipped; three finite steps in a row double it. The reference runs the finite steps only, with the same t.
     */
    @Test
    void theInGraphScaleSkipsPoisonedStepsAndOtherwiseMatchesTheUnscaledStepBitForBit() {
        float[] x = firstBatch(true), y = firstBatch(false), poisoned = x.clone();
        poisoned[5] = Float.POSITIVE_INFINITY;
        Model plain = mlp(Precision.BF16), scaled = mlp(Precision.BF16).lossScale(LossScale.initial(1024f).growthInterval(3));
        Executable a = plain.trainingProgram(32), b = scaled.trainingProgram(32);
        float[] expectedScale = {1024, 1024, 512, 512, 512, 1024, 512, 512, 512, 1024};
        for (int t = 1; t <= expectedScale.length; t++) {
            boolean poison = t == 3 || t == 7;
            List<float[]> before = state(scaled);
            run(b, poison ? poisoned : x, y, t);
            if (poison) assertEquals(0, differing(before, state(scaled)), "step " + t + " was skipped: no weight or slot changes");
            else {
                step(plain, a, x, y, t);
                assertEquals(0, differing(state(plain), state(scaled)), "step " + t + ": scaled and unscaled bf16 steps differ");
            }
            assertEquals(expectedScale[t - 1], scaled.lossScale().scale(), "scale after step " + t);
        }
        assertEquals(2, scaled.lossScale().skippedSteps());
        assertEquals(0, scaled.lossScale().goodSteps(), "doubled at step 10: the count restarted");
        assertTrue(differing(copies(mlp(Precision.BF16)), copies(scaled)) > 0, "the steps moved the weights");
    }

    @Test
    void anOverflowingStepIsSkippedAndHalvesTheScaleAndSteadyStepsDoubleIt() {
        float[] x = firstBatch(true), y = firstBatch(false);
        Model m = mlp(Precision.FP16);
        // 2^40 times a gradient of order 1/32 is far past fp16's 65504: the backward products read infinity
        m.lossScale(LossScale.initial(0x1p40f).growthInterval(2));
        Executable e = m.trainingProgram(32);
        List<float[]> before = copies(m);

        step(m, e, x, y, 1);
        assertEquals(0x1p39f, m.lossScale().scale(), "halved");
        assertEquals(1, m.lossScale().skippedSteps());
        assertEquals(0, differing(before, copies(m)), "a skipped step changes no weight");

        m.lossScale().restore(1024f, 0);
        step(m, e, x, y, 2);
        assertEquals(1024f, m.lossScale().scale(), "one finite step: not yet");
        assertTrue(differing(before, copies(m)) > 0, "a finite step updates the weights");
        step(m, e, x, y, 3);
        assertEquals(2048f, m.lossScale().scale(), "two finite steps in a row: doubled");
        assertEquals(1, m.lossScale().skippedSteps());
    }

    @Test
    void scaledStepsMatchTheUnscaledStepWhenNothingOverflows() {
        // BF16 with a loss scale that is a power of two: scaling and unscaling are exact, the rounding of a scaled
        // value is the scaled rounding, so the scaled step must give the unscaled step's weights bit for bit
        float[] x = firstBatch(true), y = firstBatch(false);
        Model plain = mlp(Precision.BF16), scaled = mlp(Precision.BF16).lossScale(LossScale.initial(256f));
        Executable a = plain.trainingProgram(32), b = scaled.trainingProgram(32);
        for (int s = 1; s <= 3; s++) { step(plain, a, x, y, s); step(scaled, b, x, y, s); }
        assertEquals(0, differing(copies(plain), copies(scaled)), "scaled and unscaled bf16 steps differ");
        assertTrue(differing(copies(mlp(Precision.BF16)), copies(scaled)) > 0, "the steps moved the weights");
    }

    /**
     * A batch whose FP16 forward pass overflows (an input of 1e30, above FP16's 65504, into a linear layer: the loss
     * itself is infinite) is a step the loss scale skips, not a diverged run: fit goes on, leaves it out of the epoch's
     * loss, and the scale halves once per epoch. Without a loss scale the same infinite loss stops fit.
     */
    @Test
    void anFp16StepWhoseLossOverflowsIsSkippedAndFitGoesOn() {
        int rows = 32, features = 4, epochs = 3;
        SplittableRandom r = new SplittableRandom(8);
        float[] x = new float[rows * features], y = new float[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < rows; i++) y[i] = (float) r.nextGaussian();
        x[5 * features + 1] = 1e30f;   // finite: rounds to infinity in FP16, and its square overflows f32's loss
        Dataset data = Dataset.of(x, Shape.of(rows, features), y, Shape.of(rows, 1));
        Fit fit = Fit.epochs(epochs).batchSize(8).seed(1).verbose(false);
        Model m = Sequential.of(Input.shape(features), Dense.of(1)).seed(3);
        m.compile(Adam.lr(1e-2), Loss.mse(), Precision.FP16);
        var history = m.fit(data, fit);
        assertEquals(epochs, m.lossScale().skippedSteps(), "one overflowing batch per epoch: " + m.lossScale());
        assertEquals(65536f / 8, m.lossScale().scale(), "halved at each skip");
        for (double loss : history.get("loss")) assertTrue(Double.isFinite(loss), "epoch losses " + history.get("loss"));
        Model unscaled = Sequential.of(Input.shape(features), Dense.of(1)).seed(3);
        unscaled.compile(Adam.lr(1e-2), Loss.mse(), Precision.F32);
        var e = assertThrows(ArithmeticException.class, () -> unscaled.fit(data, fit));
        assertTrue(e.getMessage().startsWith("the loss became Infinity"), e.getMessage());
    }
}
