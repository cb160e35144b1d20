package dev.kiln.nn.applications;

import dev.kiln.nn.AbstractLayer;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.Layer;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Symbol;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * VGG16 (Simonyan and Zisserman, 2014) with Keras's exact layer names, so Keras weight files load
 * by name: five blocks of 3×3 same-padded ReLU convolutions (64, 128, 256×3, 512×3, 512×3 filters;
 * block1_conv1 … block5_conv3) each ending in a 2×2 max pool (block1_pool … block5_pool), then
 * for the top flatten, fc1 and fc2 (4096, ReLU) and predictions (softmax). Input: NHWC RGB images
 * preprocessed as Keras's {@code vgg16.preprocess_input} does (see {@link #preprocess}).
 *
 * <pre>{@code
 * Model features = VGG16.of(false, Shape.of(64, 64, 3));
 * VGG16.loadWeights(features, Path.of("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"));
 *
 * // transfer learning: a frozen base and a new head
 * VGG16.Base base = VGG16.base(Shape.of(64, 64, 3)).setTrainable(false);
 * Symbol x = GlobalAveragePooling2D.of().apply(base.output());
 * Model model = Model.of(base.input(), Dense.of(1).sigmoid().apply(Dense.of(256).relu().apply(x)));
 * VGG16.loadWeights(model, weightsPath);
 * }</pre>
 */
public final class VGG16 {
    /** The smallest height and width: five 2×2 pools need 32 pixels to leave one. */
    public static final int MIN_SIZE = 32;
    /** Keras's default input, the size the ImageNet top was trained for. */
    public static final Shape DEFAULT_INPUT = Shape.of(224, 224, 3);
    /** The ImageNet classes of Keras's top. */
    public static final int IMAGENET_CLASSES = 1000;
    /** The per-channel means (B, G, R) Keras's "caffe" preprocessing subtracts from 0–255 pixels. */
    private static final float[] BGR_MEAN = {103.939f, 116.779f, 123.68f};

    /** Filters per block; the last three blocks have three convolutions, the first two have two. */
    private static final int[] FILTERS = {64, 128, 256, 512, 512};
    private static final List<String> TOP = List.of("flatten", "fc1", "fc2", "predictions");

    private VGG16() {}

    /**
     * The frozen-or-not feature extractor of a VGG16 as symbols to continue from: {@code input} is
     * the model input, {@code output} block5_pool's [H/32, W/32, 512] features, {@code layers} the
     * 18 base layers. Build a {@link Model} from {@code input} to your head's output.
     */
    public record Base(Symbol input, Symbol output, List<Layer> layers) {
        public Base { layers = List.copyOf(layers); }

        /** Freezes (false) or unfreezes the base's layers; call before compiling. Returns this. */
        public Base setTrainable(boolean trainable) {
            for (Layer l : layers) l.setTrainable(trainable);
            return this;
        }

        /** The base alone as a model (VGG16 without its top). */
        public Model model() { return Model.of(input, output); }
    }

    /** VGG16 at Keras's default input, 224×224×3. */
    public static Model of(boolean includeTop) { return of(includeTop, DEFAULT_INPUT); }

    /**
     * VGG16 for images of {@code input} = [height, width, 3], each at least 32; with the top, 1000
     * classes. ImageNet top weights fit only 224×224 inputs (fc1's kernel is [H/32·W/32·512, 4096]).
     */
    public static Model of(boolean includeTop, Shape input) { return of(includeTop, input, IMAGENET_CLASSES); }

    /** As {@link #of(boolean, Shape)}, with {@code classes} outputs in the top's predictions layer. */
    public static Model of(boolean includeTop, Shape input, int classes) {
        if (classes < 1) throw new IllegalArgumentException("VGG16 needs at least 1 class, got " + classes);
        Base base = base(input);
        if (!includeTop) return base.model();
        Symbol x = named(Flatten.of(), "flatten").apply(base.output());
        x = named(Dense.of(4096).relu(), "fc1").apply(x);
        x = named(Dense.of(4096).relu(), "fc2").apply(x);
        x = named(Dense.of(classes).softmax(), "predictions").apply(x);
        return Model.of(base.input(), x);
    }

    /** The 13 convolutions and 5 pools, from a new input of {@code input} = [height, width, 3]. */
    public static Base base(Shape input) {
        checkInput(input);
        Symbol in = Input.shape(input.dims());
        Symbol x = in;
        List<Layer> layers = new ArrayList<>();
        for (int b = 0; b < FILTERS.length; b++) {
            int convs = b < 2 ? 2 : 3;
            for (int c = 1; c <= convs; c++) {
                Layer conv = named(Conv2D.of(FILTERS[b], 3).relu().same(), "block" + (b + 1) + "_conv" + c);
                layers.add(conv);
                x = conv.apply(x);
            }
            Layer pool = named(MaxPool2D.of(2), "block" + (b + 1) + "_pool");
            layers.add(pool);
            x = pool.apply(x);
        }
        return new Base(in, x, layers);
    }

    private static void checkInput(Shape input) {
        if (input.rank() != 3 || input.dim(2) != 3 || input.dim(0) < MIN_SIZE || input.dim(1) < MIN_SIZE) {
            throw new ShapeException("VGG16 takes RGB images [height, width, 3] with height and width at least " + MIN_SIZE + ", got " + input);
        }
    }

    private static Layer named(AbstractLayer<?> l, String name) { return l.named(name); }

    /** Keras's layer names, in order: block1_conv1 … block5_pool, then with the top flatten, fc1, fc2, predictions. */
    public static List<String> layerNames(boolean includeTop) {
        List<String> names = new ArrayList<>();
        for (Layer l : base(Shape.of(MIN_SIZE, MIN_SIZE, 3)).layers()) names.add(l.name());
        if (includeTop) names.addAll(TOP);
        return List.copyOf(names);
    }

    /**
     * Loads VGG16 weights into {@code model} (from {@link #of} or a model built on {@link #base})
     * from a Keras HDF5 file (save_weights or model.save layout; Keras's own vgg16_weights_tf_*.h5)
     * or a safetensors file with tensors "block1_conv1/kernel", "block1_conv1/bias", ….
     * Every VGG16 layer with weights that the model has must be in the file, with the same shapes;
     * the file's top (fc1, fc2, predictions) is skipped when the model has none; layers of a new head
     * keep their values. Returns the names of the layers loaded.
     *
     * @throws IOException naming the file, the layer and weight, and the expected and found shapes
     *         for a missing, truncated, corrupt or mismatched file; the model is unchanged then
     */
    public static List<String> loadWeights(Model model, Path file) throws IOException {
        Set<String> required = new LinkedHashSet<>(layerNames(true));
        Set<String> skippable = Set.of("fc1", "fc2", "predictions");
        return PretrainedWeights.load(model, file, skippable, required);
    }

    /**
     * Keras's {@code vgg16.preprocess_input} in place: {@code rgb} holds HWC images with channels
     * R, G, B in 0–255; each pixel becomes (B − 103.939, G − 116.779, R − 123.68), the order and
     * centring the original Caffe weights were trained with. Images in [0, 1] are multiplied by 255 first.
     */
    public static void preprocess(float[] rgb, boolean unitRange) {
        if (rgb.length % 3 != 0) throw new IllegalArgumentException("preprocess takes RGB pixels (a multiple of 3 values), got " + rgb.length);
        float scale = unitRange ? 255f : 1f;
        for (int i = 0; i < rgb.length; i += 3) {
            float r = rgb[i] * scale, g = rgb[i + 1] * scale, b = rgb[i + 2] * scale;
            rgb[i] = b - BGR_MEAN[0];
            rgb[i + 1] = g - BGR_MEAN[1];
            rgb[i + 2] = r - BGR_MEAN[2];
        }
    }
}
