package dev.kiln.bench;

import dev.kiln.io.Json;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;

/**
 * The Deeplearning4j peer of {@code ./kiln bench --peers dl4j}: M1–M3 of shared/DESIGN.md built with DL4J's
 * MultiLayerNetwork the way {@link BenchModels}' Kiln versions are (same layer sizes, Glorot-uniform weights and zero
 * biases, Adam(1e-3), fp32, the same batches and random-data shapes), timed by the same rule as {@code ModelBench}
 * ({@link Timed}: warm-up and timed runs by {@link Timed.Rule}, median of at least 3 runs, busy runs rerun), written as
 * the same JSON records, the warm-up's trace included.
 *
 * <p>nd4j fixes its OpenMP and OpenBLAS thread counts from OMP_NUM_THREADS when it loads, so the parent
 * ({@code Bench}) starts one JVM per thread count. DL4J specifics, each the closest equivalent of Kiln's model:
 * DL4J's dropout argument is the retain probability (Dropout .3 is {@code DropoutLayer(0.7)}); M3's sparse
 * cross-entropy is MCXENT on softmax with one-hot labels (the same loss; DL4J has no sparse-label form for
 * MultiLayerNetwork); M3 runs in DL4J's default NCHW layout, the one its CPU convolutions are built for.
 *
 * <pre>java -cp ... dev.kiln.bench.Dl4jBench --model M1,M2,M3 --figures train,infer_b1,infer_b256 --result d.json</pre>
 */
public final class Dl4jBench {
    private Dl4jBench() {}

    /** javacpp's property that picks the natives directory (linux-x86_64-avx512/ and so on) inside nd4j-native's jar. */
    static final String EXTENSION = "org.bytedeco.javacpp.platform.extension";

    public static void main(String[] args) throws IOException {
        // Before any nd4j class loads: without it javacpp looks for the generic linux-x86_64 build, which is not on the path.
        if (System.getProperty(EXTENSION) == null) System.setProperty(EXTENSION, platformExtension(System.getProperty("java.class.path")));
        Map<String, String> a = Args.parse(args);
        List<String> models = List.of(a.getOrDefault("model", "M1").split(","));
        List<String> figures = List.of(a.getOrDefault("figures", "train,infer_b1,infer_b256").split(","));
        Timed timed = Timed.from(a, false);
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        CNN2DFormat layout = CNN2DFormat.valueOf(a.getOrDefault("layout", "NCHW").toUpperCase(java.util.Locale.ROOT));
        List<Object> records = new ArrayList<>();
        for (String model : models) {
            for (String figure : figures) {
                // A fresh network per figure: each starts from the same weights and optimizer state, as in ModelBench.
                Spec spec = spec(model, layout);
                boolean train = figure.startsWith("train");
                int batch = figure.equals("train") ? spec.batch() : Integer.parseInt(figure.substring(figure.indexOf("_b") + 2));
                Runnable step = train ? trainStep(spec, batch) : inferStep(spec, batch);
                Map<String, Object> rec = timed.samplesPerSecond(model, figure, batch, step, () -> { });
                records.add(rec);
                System.err.printf("[dl4j] %s %s: %.0f samples/s%n", model, figure, (Double) rec.get("median"));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("system", "dl4j");
        out.put("threads", Integer.parseInt(System.getenv().getOrDefault("OMP_NUM_THREADS", "0")));
        out.put("layout", layout.name());
        out.put("facts", facts());
        out.put("records", records);
        Files.writeString(Path.of(a.get("result")), Json.write(out));
    }

    /** A network, its training batch, per-example input shape (NCHW for images) and classes (0: regression, 1 output). */
    record Spec(String name, MultiLayerNetwork net, int batch, long[] input, int classes) {}

    static Spec spec(String name, CNN2DFormat layout) {
        MultiLayerNetwork net = new MultiLayerNetwork(switch (name) {
            case "M1" -> m1();
            case "M2" -> m2();
            case "M3" -> m3(layout);
            default -> throw new IllegalArgumentException("the DL4J peer runs M1, M2 and M3; got '" + name + "'");
        });
        net.init();
        return switch (name) {
            case "M1" -> new Spec(name, net, 256, new long[] {11}, 0);
            case "M2" -> new Spec(name, net, 512, new long[] {63}, 2);
            default -> new Spec(name, net, 64, layout == CNN2DFormat.NCHW ? new long[] {1, 28, 28} : new long[] {28, 28, 1}, 10);
        };
    }

    private static NeuralNetConfiguration.ListBuilder base() {
        return new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER_UNIFORM).list();
    }

    /** 11 → Dense 512 ×3 ReLU → 1, MAE. */
    static MultiLayerConfiguration m1() {
        return base()
                .layer(new DenseLayer.Builder().nOut(512).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nOut(512).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nOut(512).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MEAN_ABSOLUTE_ERROR).nOut(1).activation(Activation.IDENTITY).build())
                .setInputType(InputType.feedForward(11)).build();
    }

    /** 63 → BN, Dense 256 ReLU, BN, Dropout .3, Dense 256 ReLU, BN, Dropout .3, Dense 1 sigmoid; BCE. */
    static MultiLayerConfiguration m2() {
        return base()
                .layer(new BatchNormalization.Builder().build())
                .layer(new DenseLayer.Builder().nOut(256).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new DropoutLayer.Builder(0.7).build())
                .layer(new DenseLayer.Builder().nOut(256).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new DropoutLayer.Builder(0.7).build())
                .layer(new OutputLayer.Builder(LossFunction.XENT).nOut(1).activation(Activation.SIGMOID).build())
                .setInputType(InputType.feedForward(63)).build();
    }

    /** 28×28×1 → conv blocks (32; 64×2; 128×3; 3×3 same, ReLU, max-pool 2) → Dense 64 ReLU, Dropout .2, Dense 10; CE. */
    static MultiLayerConfiguration m3(CNN2DFormat layout) {
        NeuralNetConfiguration.ListBuilder l = base();
        int[][] blocks = {{32}, {64, 64}, {128, 128, 128}};
        for (int[] block : blocks) {
            for (int f : block) {
                l.layer(new ConvolutionLayer.Builder(3, 3).nOut(f).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU)
                        .dataFormat(layout).build());
            }
            l.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).dataFormat(layout).build());
        }
        return l.layer(new DenseLayer.Builder().nOut(64).activation(Activation.RELU).build())
                .layer(new DropoutLayer.Builder(0.8).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(28, 28, 1, layout)).build();
    }

    static INDArray features(Spec spec, int batch, SplittableRandom r) {
        long[] shape = new long[spec.input().length + 1];
        shape[0] = batch;
        System.arraycopy(spec.input(), 0, shape, 1, spec.input().length);
        INDArray x = Nd4j.create(DataType.FLOAT, shape);
        long n = x.length();
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble(-1, 1);
        return Nd4j.create(v, shape, 'c');
    }

    static Runnable trainStep(Spec spec, int batch) {
        SplittableRandom r = new SplittableRandom(3);
        INDArray x = features(spec, batch, r);
        INDArray y = spec.classes() == 0 ? Nd4j.rand(DataType.FLOAT, batch, 1).muli(2).subi(1)
                : spec.classes() == 2 ? Nd4j.create(DataType.FLOAT, batch, 1) : Nd4j.create(DataType.FLOAT, batch, spec.classes());
        for (int i = 0; i < batch; i++) {
            if (spec.classes() == 2) y.putScalar(i, 0, r.nextInt(2));
            else if (spec.classes() > 2) y.putScalar(i, r.nextInt(spec.classes()), 1f);
        }
        DataSet ds = new DataSet(x, y);
        MultiLayerNetwork net = spec.net();
        return () -> net.fit(ds);
    }

    static Runnable inferStep(Spec spec, int batch) {
        INDArray x = features(spec, batch, new SplittableRandom(4));
        MultiLayerNetwork net = spec.net();
        // The result is read back as a Kiln caller would read its output, so lazily skipped work cannot flatter the figure.
        float[] sink = new float[1];
        return () -> {
            INDArray out = net.output(x, false);
            sink[0] += out.getFloat(0);
        };
    }

    /** The version in a jar's Maven metadata (the jars' manifests carry none). */
    static String mavenVersion(String group, String artifact) {
        try (var in = Dl4jBench.class.getResourceAsStream("/META-INF/maven/" + group + "/" + artifact + "/pom.properties")) {
            if (in == null) return "?";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "?");
        } catch (IOException e) {
            return "?";
        }
    }

    /** The nd4j-native natives jar on {@code classPath} (e.g. nd4j-native-1.0.0-M2.1-linux-x86_64-avx512.jar), or "?". */
    static String nativesJar(String classPath) {
        String natives = "?";
        for (String e : classPath.split(java.io.File.pathSeparator)) {
            if (e.isEmpty()) continue;
            String jar = Path.of(e).getFileName().toString();
            if (jar.startsWith("nd4j-native-") && jar.matches(".*-linux-x86_64(-[a-z0-9-]+)?\\.jar")) natives = jar;
        }
        return natives;
    }

    /** "-avx512" for the linux-x86_64-avx512 natives jar, "" for the generic one. */
    static String platformExtension(String classPath) {
        String jar = nativesJar(classPath);
        int at = jar.indexOf("-linux-x86_64");
        return at < 0 ? "" : jar.substring(at + "-linux-x86_64".length(), jar.length() - ".jar".length());
    }

    /** What ran: DL4J and nd4j versions, the natives jar (its classifier), nd4j's own view of BLAS and threads, the JVM. */
    static Map<String, Object> facts() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("dl4j", mavenVersion("org.deeplearning4j", "deeplearning4j-nn"));
        f.put("nd4j", mavenVersion("org.nd4j", "nd4j-native"));
        f.put("nd4j_natives_jar", nativesJar(System.getProperty("java.class.path")));
        f.put("platform_extension", System.getProperty(EXTENSION, ""));
        Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        Map<String, Object> nd = new LinkedHashMap<>();
        for (String k : env.stringPropertyNames()) {
            Object v = env.get(k);
            nd.put(k, v instanceof Number || v instanceof Boolean ? v : String.valueOf(v));
        }
        f.put("nd4j_environment", nd);
        f.put("omp_num_threads", System.getenv("OMP_NUM_THREADS"));
        f.put("jdk", System.getProperty("java.vendor") + " " + System.getProperty("java.runtime.version"));
        return f;
    }
}
