package dev.kiln.bench;

import dev.kiln.graph.Padding;
import dev.kiln.loss.Loss;
import dev.kiln.nn.*;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/** The benchmark models M1–M4 of shared/DESIGN.md, built with the layer API, compiled with Adam(1e-3). */
public final class BenchModels {
    private BenchModels() {}

    /** A model, its default training batch and the per-example shapes of its data. */
    public record Spec(String name, Model model, int batch, Shape input, Shape target, int classes) {}

    public static Spec of(String name) {
        return switch (name) {
            case "M1" -> m1();
            case "M2" -> m2();
            case "M3" -> m3();
            case "M4" -> m4();
            default -> throw new IllegalArgumentException("unknown model '" + name + "'; models: M1, M2, M3, M4");
        };
    }

    /** 11 → Dense 512 ×3 ReLU → 1, MAE, Adam; batch 256. */
    static Spec m1() {
        Model m = Sequential.of(Input.shape(11), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(1)).seed(1);
        m.compile(Adam.lr(1e-3), Loss.mae());
        return new Spec("M1", m, 256, Shape.of(11), Shape.of(1), 0);
    }

    /** 63 → BN, Dense 256 ReLU, BN, Dropout .3, Dense 256 ReLU, BN, Dropout .3, Dense 1 sigmoid; BCE, Adam; batch 512. */
    static Spec m2() {
        Model m = Sequential.of(Input.shape(63), BatchNormalization.of(), Dense.of(256).relu(), BatchNormalization.of(), Dropout.of(0.3),
                Dense.of(256).relu(), BatchNormalization.of(), Dropout.of(0.3), Dense.of(1).sigmoid()).seed(1);
        m.compile(Adam.lr(1e-3), Loss.binaryCrossentropy());
        return new Spec("M2", m, 512, Shape.of(63), Shape.of(1), 2);
    }

    /** The three conv blocks (32; 64×2; 128×3 filters, 3×3 same, ReLU, max-pool 2 after each block). */
    static List<Layer> blocks() {
        List<Layer> l = new ArrayList<>();
        int[][] blocks = {{32}, {64, 64}, {128, 128, 128}};
        for (int[] block : blocks) {
            for (int f : block) l.add(Conv2D.of(f, 3).padding(Padding.SAME).relu());
            l.add(MaxPool2D.of(2));
        }
        return l;
    }

    /** 28×28×1 → blocks → Dense 64 ReLU, Dropout .2, Dense 10; cross-entropy, Adam; batch 64. */
    static Spec m3() {
        List<Layer> l = blocks();
        l.add(Flatten.of()); l.add(Dense.of(64).relu()); l.add(Dropout.of(0.2)); l.add(Dense.of(10));
        Model m = Sequential.of(Input.shape(28, 28, 1), l.toArray(Layer[]::new)).seed(1);
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropyFromLogits());
        return new Spec("M3", m, 64, Shape.of(28, 28, 1), Shape.SCALAR, 10);
    }

    /** 128×128×3 → blocks → Dense 6 ReLU, Dropout .2, Dense 1 sigmoid; BCE, Adam; batch 16. */
    static Spec m4() {
        List<Layer> l = blocks();
        l.add(Flatten.of()); l.add(Dense.of(6).relu()); l.add(Dropout.of(0.2)); l.add(Dense.of(1).sigmoid());
        Model m = Sequential.of(Input.shape(128, 128, 3), l.toArray(Layer[]::new)).seed(1);
        m.compile(Adam.lr(1e-3), Loss.binaryCrossentropy());
        return new Spec("M4", m, 16, Shape.of(128, 128, 3), Shape.of(1), 2);
    }
}
