package dev.kiln.cuda;

import dev.kiln.compile.Compiler;
import dev.kiln.compile.Program;
import dev.kiln.cuda.emu.EmulatedCuda;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A test on a fresh emulated device each (skipped, saying why, without nvcc), with a small dense model's training step. */
abstract class OnEmulatedDevice {
    protected EmulatedCuda cuda;

    @BeforeEach void startDevice() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        cuda = new EmulatedCuda();
    }

    @AfterEach void stopDevice() { if (cuda != null) cuda.close(); }

    /** Dense layers of {@code widths} (ReLU between, linear last) over {@code features} inputs, Adam(1e-2), MSE. */
    static Model denseModel(int features, long seed, int... widths) {
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < widths.length; i++) layers.add(i < widths.length - 1 ? Dense.of(widths[i]).relu() : Dense.of(widths[i]));
        Model m = Sequential.of(Input.shape(features), layers.toArray(Layer[]::new)).seed(seed);
        m.compile(Adam.lr(1e-2), Loss.mse());
        return m;
    }

    /** The compiled (not yet lowered) training step of {@code m} for {@code batch} examples. */
    static Program trainingStep(Model m, int batch) {
        Model.Traced t = m.trainingGraph(batch);
        return Compiler.compile(t.graph(), Compiler.Options.defaults().withInputs(t.inputs()));
    }
}
