package dev.kiln.nn;

import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.io.FloatTensor;
import dev.kiln.io.Json;
import dev.kiln.io.Safetensors;
import dev.kiln.io.SafetensorsTest;
import dev.kiln.optim.Adam;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Model files without a backend: architecture and weights round trip, optimizer state restored at
 * the first training program, atomic writes, and one test per kind of bad file checking the message.
 */
class ModelFileTest {
    @TempDir Path dir;

    /** Every registered layer type, two inputs, a shared Dense layer and a frozen layer. */
    static Model everyLayerType() {
        Symbol image = Input.named("image", 8, 8, 2), extra = Input.named("extra", 3);
        Symbol c = Conv2D.of(4, 3).relu().same().apply(image);
        Symbol p = MaxPool2D.of(2).apply(BatchNormalization.of().momentum(0.9).apply(c));          // [4, 4, 4]
        Symbol f = Flatten.of().apply(Reshape.to(4, 4).apply(Flatten.of().apply(AvgPool2D.of(2).apply(p)))); // [16]
        Dense shared = Dense.of(4).tanh().named("shared");
        Dense frozen = Dense.of(4).named("frozen");
        frozen.setTrainable(false);
        Symbol a = shared.apply(GlobalAveragePooling2D.of().apply(p));
        Symbol b = shared.apply(frozen.apply(extra));
        Symbol sum = ActivationLayer.of(Activation.ELU).apply(Add.of().apply(a, b));
        Symbol out = Dense.of(3).softmax().apply(Dropout.of(0.5).apply(Concatenate.of().apply(sum, f)));
        return Model.of(List.of(image, extra), List.of(out)).seed(42);
    }

    static Model mlp(int hidden) {
        return Sequential.of(Input.shape(4), Dense.of(hidden).relu(), BatchNormalization.of(), Dropout.of(0.25), Dense.of(2).softmax()).seed(3);
    }

    @Test
    void anFp16ModelKeepsItsLossScaleAcrossSaveAndLoad() throws IOException {
        Model m = mlp(5);
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy(), dev.kiln.compile.Precision.FP16);
        m.lossScale(LossScale.initial(4096f).growthInterval(100));
        m.lossScale().restore(2048f, 1);   // as after a finite, a skipped and a finite step
        Path f = dir.resolve("fp16.kiln");
        m.save(f);
        Model back = Model.load(f);
        assertEquals(2048f, back.lossScale().scale());
        assertEquals(1, back.lossScale().goodSteps());
        assertEquals(100, back.lossScale().growthIntervalSteps());
        Model plain = mlp(5);
        plain.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy());
        plain.save(dir.resolve("f32.kiln"));
        assertNull(Model.load(dir.resolve("f32.kiln")).lossScale(), "no loss scale saved, none restored");
    }

    @Test
    void saveThenLoadRebuildsEveryLayerTypeItsWiringAndItsWeights() throws IOException {
        Model m = everyLayerType().build();
        m.setIterations(17);
        Path file = dir.resolve("m.safetensors");
        m.save(file);
        Model back = Model.load(file);

        assertEquals(Json.write(Architecture.describe(m)), Json.write(Architecture.describe(back)));
        assertEquals(17, back.iterations());
        assertEquals(m.weights().size(), back.weights().size());
        for (int i = 0; i < m.weights().size(); i++) {
            Variable v = m.weights().get(i), w = back.weights().get(i);
            assertEquals(v.name(), w.name());
            assertEquals(v.shape(), w.shape());
            assertEquals(v.trainable(), w.trainable(), v.name());
            assertArrayEquals(v.value(), w.value(), 0f, v.name());
        }
        assertFalse(back.layer("frozen").trainable());
        // the shared layer is one layer applied twice, not two copies
        assertEquals(m.layers().size(), back.layers().size());
        List<String> types = new ArrayList<>();
        for (Layer l : back.layers()) types.add(l.type());
        for (String t : Layers.types()) assertTrue(types.contains(t), "type " + t + " not covered: " + types);
    }

    @Test
    void weightsOfAFreshlySeededModelDifferSoTheRoundTripIsNotVacuous() throws IOException {
        Model m = mlp(8).build();
        for (Variable v : m.weights()) for (int i = 0; i < v.value().length; i++) v.value()[i] += 0.5f;
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(m, file);
        Model back = ModelFile.load(file);
        Model fresh = mlp(8).build();
        assertArrayEquals(m.weights().get(0).value(), back.weights().get(0).value(), 0f);
        assertFalse(java.util.Arrays.equals(fresh.weights().get(0).value(), back.weights().get(0).value()));
    }

    @Test
    void truncatedFileFailsNamingTheFileAndTheTensor() throws IOException {
        Path file = dir.resolve("t.safetensors");
        mlp(8).save(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) { ch.truncate(ch.size() - 4); }
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        // tensors are written in model order, so 4 bytes off the end cut into the last weight only: the second Dense's 2-float bias
        assertTrue(e.getMessage().contains("tensor 'dense_1/bias'") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptHeaderLengthFailsNamingTheFile() throws IOException {
        Path file = dir.resolve("c.safetensors");
        mlp(8).save(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40), 0);
        }
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("header length"), e.getMessage());
    }

    @Test
    void corruptTensorEntryFailsNamingTheFileAndTheTensor() throws IOException {
        Path file = dir.resolve("c.safetensors");
        mlp(8).save(file);
        byte[] bytes = Files.readAllBytes(file);
        String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        // the entry's keys come in any order; its dtype is the first "F32" after its name
        int at = s.indexOf("\"F32\"", s.indexOf("\"dense/kernel\":{"));
        assertTrue(at > 0);
        // same length, so offsets stay valid: only the dtype is wrong ("F36")
        bytes[at + 2] = '6';
        Files.write(file, bytes);
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("tensor 'dense/kernel'"), e.getMessage());
    }

    @Test
    void architectureThatIsNotJsonFailsNamingTheFileAndTheMetadataKey() throws IOException {
        Path file = dir.resolve("j.safetensors");
        Safetensors.write(file, Map.of(), Map.of(ModelFile.METADATA_KEY, "{\"format\": \"kiln.model\", "));
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("'kiln.model'") && e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void plainSafetensorsIsNotAModelFileButLoadsAsWeights() throws IOException {
        Model m = mlp(8).build();
        Path file = dir.resolve("plain.safetensors");
        Map<String, FloatTensor> t = new LinkedHashMap<>();
        for (Variable v : m.weights()) {
            float[] x = new float[v.value().length];
            java.util.Arrays.fill(x, 0.25f);
            t.put(v.name(), new FloatTensor(v.shape(), x));
        }
        Safetensors.write(file, t, Map.of());
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("not a Kiln model file") && e.getMessage().contains("loadWeights"), e.getMessage());
        m.loadWeights(file);
        for (Variable v : m.weights()) assertEquals(0.25f, v.value()[v.value().length - 1], 0f, v.name());
    }

    @Test
    void weightsOfAnotherShapeFailNamingTheFileTheTensorAndBothShapes() throws IOException {
        Path file = dir.resolve("m8.safetensors");
        mlp(8).save(file);
        Model m16 = mlp(16).build();
        float[] before = m16.weights().get(0).value().clone();
        IOException e = assertThrows(IOException.class, () -> m16.loadWeights(file));
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()) && msg.contains("tensor 'dense/kernel'") && msg.contains("expected shape [4, 16]") && msg.contains("found [4, 8]"), msg);
        assertArrayEquals(before, m16.weights().get(0).value(), 0f, "a rejected file must change nothing");
    }

    @Test
    void architectureThatDisagreesWithItsTensorsFailsNamingBothShapes() throws IOException {
        Path file = dir.resolve("m.safetensors");
        mlp(8).save(file);
        rewrite(file, doc -> config(doc, 0).put("units", 5L), t -> {});
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()) && msg.contains("tensor 'dense/kernel'") && msg.contains("expected shape [4, 5]") && msg.contains("found [4, 8]"), msg);
    }

    @Test
    void missingAndExtraTensorsAreListedByName() throws IOException {
        Path file = dir.resolve("m.safetensors");
        mlp(8).save(file);
        rewrite(file, doc -> {}, t -> {
            t.remove("batch_normalization/moving_variance");
            t.put("dense_9/kernel", new FloatTensor(Shape.of(1), new float[1]));
        });
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()) && msg.contains("missing tensors [batch_normalization/moving_variance]") && msg.contains("extra tensors [dense_9/kernel]"), msg);
    }

    @Test
    void unknownLayerTypeFailsNamingTheLayerTheTypeAndTheKnownTypes() throws IOException {
        Path file = dir.resolve("m.safetensors");
        mlp(8).save(file);
        rewrite(file, doc -> layer(doc, 2).put("type", "Frobnicate"), t -> {});
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()) && msg.contains("layers[2] ('dropout')") && msg.contains("unknown type 'Frobnicate'")
                && msg.contains("Dense") && msg.contains("Layers.register"), msg);
    }

    @Test
    void missingConfigFieldFailsNamingTheLayerAndTheField() throws IOException {
        Path file = dir.resolve("m.safetensors");
        mlp(8).save(file);
        rewrite(file, doc -> config(doc, 0).remove("units"), t -> {});
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()) && msg.contains("Dense layer 'dense'") && msg.contains("missing field 'units'"), msg);
    }

    @Test
    void mistypedConfigFieldFailsNamingTheFieldAndTheValue() throws IOException {
        Path file = dir.resolve("m.safetensors");
        mlp(8).save(file);
        rewrite(file, doc -> config(doc, 0).put("activation", "sparkle"), t -> {});
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("field 'activation' is 'sparkle'") && e.getMessage().contains("RELU"), e.getMessage());
    }

    @Test
    void missingArchitectureFieldFailsNamingIt() throws IOException {
        Path file = dir.resolve("m.safetensors");
        mlp(8).save(file);
        rewrite(file, doc -> doc.remove("nodes"), t -> {});
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("missing field 'nodes'"), e.getMessage());
    }

    @Test
    void newerFormatVersionIsRejected() throws IOException {
        Path file = dir.resolve("m.safetensors");
        mlp(8).save(file);
        rewrite(file, doc -> doc.put("version", 2L), t -> {});
        IOException e = assertThrows(IOException.class, () -> Model.load(file));
        assertTrue(e.getMessage().contains("format version 2"), e.getMessage());
    }

    @Test
    void optimizerStateIsRestoredWhenTheFirstTrainingProgramIsBuilt() throws IOException {
        Model m = mlp(8);
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy());
        m.trainingGraph(2); // creates the Adam slots
        List<Variable> slots = m.optimizer().slots();
        assertEquals(2 * 6, slots.size(), "m and v for 2 kernels, 2 biases, gamma, beta");
        for (Variable s : slots) for (int i = 0; i < s.value().length; i++) s.value()[i] = s.name().hashCode() % 97 + i;
        m.setIterations(40);
        Path file = dir.resolve("m.safetensors");
        m.save(file);

        // loading and saving again before compiling keeps the state that waits for the optimizer
        Path again = dir.resolve("again.safetensors");
        Model.load(file).save(again);
        Model back = Model.load(again);
        assertEquals(40, back.iterations());
        back.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy());
        back.trainingGraph(2);
        Map<String, float[]> restored = new LinkedHashMap<>();
        for (Variable s : back.optimizer().slots()) restored.put(s.name(), s.value());
        assertEquals(slots.size(), restored.size());
        for (Variable s : slots) assertArrayEquals(s.value(), restored.get(s.name()), 0f, s.name());
    }

    @Test
    void optimizerStateThatDoesNotFitTheNewOptimizerFailsNamingTheSlots() throws IOException {
        Model m = mlp(8);
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy());
        m.trainingGraph(2);
        Path file = dir.resolve("m.safetensors");
        m.save(file);
        Model back = Model.load(file);
        back.compile(Sgd.lr(0.1).momentum(0.9), Loss.sparseCategoricalCrossentropy());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> back.trainingGraph(2));
        String msg = e.getMessage();
        assertTrue(msg.contains("Sgd") && msg.contains("dense/kernel/adam_m") && msg.contains("dense/kernel/sgd_velocity") && msg.contains("restoreOptimizerState(List.of())"), msg);
        back.restoreOptimizerState(List.of());
        back.trainingGraph(2);
    }

    @Test
    void aWriteThatFailsMidwayLeavesThePreviousFileWhole() throws IOException {
        Model m = mlp(8).build();
        Path file = dir.resolve("m.safetensors");
        m.save(file);
        float[] saved = m.weights().get(0).value().clone();
        byte[] before = Files.readAllBytes(file);

        for (Variable v : m.weights()) v.value()[0] += 1;
        ModelFile.beforeWrite = failingAfter(2);
        try {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> m.save(file));
            assertTrue(e.getMessage().contains("No space left"), e.getMessage());
        } finally {
            ModelFile.beforeWrite = null;
        }
        assertArrayEquals(before, Files.readAllBytes(file));
        assertArrayEquals(saved, Model.load(file).weights().get(0).value(), 0f);
        try (var listing = Files.list(dir)) { assertEquals(List.of(file), listing.toList(), "no temporary file is left behind"); }
    }

    /** Tensors whose data iteration fails after {@code n} tensors, as a disk that fills up mid-write (also used by the examples' ModelFileTrainingTest). */
    static java.util.function.UnaryOperator<Map<String, FloatTensor>> failingAfter(int n) {
        return tensors -> new AbstractMap<>() {
            @Override public Set<Entry<String, FloatTensor>> entrySet() { return tensors.entrySet(); }
            @Override public java.util.Collection<FloatTensor> values() {
                return new java.util.AbstractCollection<>() {
                    @Override public int size() { return tensors.size(); }
                    @Override public Iterator<FloatTensor> iterator() {
                        Iterator<FloatTensor> it = tensors.values().iterator();
                        return new Iterator<>() {
                            int given;
                            @Override public boolean hasNext() { return it.hasNext(); }
                            @Override public FloatTensor next() {
                                if (given++ == n) throw new UncheckedIOException(new IOException("No space left on device (disk full, injected)"));
                                return it.next();
                            }
                        };
                    }
                };
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> layer(Map<String, Object> doc, int i) { return (Map<String, Object>) ((List<Object>) doc.get("layers")).get(i); }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> config(Map<String, Object> doc, int i) {
        Map<String, Object> c = new LinkedHashMap<>((Map<String, Object>) layer(doc, i).get("config"));
        layer(doc, i).put("config", c);
        return c;
    }

    static Model withFrozenLayer() {
        Dense frozen = Dense.of(3).named("frozen");
        frozen.setTrainable(false);
        return Sequential.of(Input.shape(4), frozen, Dense.of(2).softmax()).seed(5).build();
    }

    @Test
    void everyFlippedBitOfASavedModelFailsTheLoad() throws IOException {
        Path file = dir.resolve("m.safetensors");
        withFrozenLayer().save(file);
        byte[] valid = Files.readAllBytes(file);
        String text = new String(valid, java.nio.charset.StandardCharsets.ISO_8859_1);
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        // every bit of the frozen layer's "trainable" (unfreezes it), of the checksum's key and digits and of the
        // document's checksum field; one seeded bit of every data byte (wrong weights) and of every fourth other byte
        boolean[] everyBit = new boolean[valid.length];
        for (String word : List.of("trainable", Safetensors.CHECKSUM_KEY + "\":\"", "\\\"" + ModelFile.CHECKSUM_FIELD + "\\\"")) {
            int found = 0;
            for (int at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1), found++) {
                for (int i = at; i < at + word.length() + (word.startsWith(Safetensors.CHECKSUM_KEY) ? 8 : 0); i++) everyBit[i] = true;
            }
            assertTrue(found > 0 || !word.equals("trainable"), word + " not in " + text);
        }
        java.util.Random rnd = new java.util.Random(14);
        List<Integer> bits = new ArrayList<>();
        for (int i = 0; i < valid.length; i++) {
            if (everyBit[i]) for (int k = 0; k < 8; k++) bits.add(8 * i + k);
            else if (i >= headerEnd || i % 4 == 0) bits.add(8 * i + rnd.nextInt(8));
        }
        assertTrue(bits.size() > 500, bits.size() + " bits");
        for (int bit : bits) {
            byte[] b = valid.clone();
            b[bit / 8] ^= (byte) (1 << (bit % 8));
            Files.write(file, b);
            int at = bit;
            IOException e = assertThrows(IOException.class, () -> ModelFile.load(file), () -> "bit " + at + " (byte " + at / 8 + ") flipped, and the file loaded");
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
        assertTrue(text.contains(Safetensors.CHECKSUM_KEY + "\":\"") && text.contains("\\\"" + ModelFile.CHECKSUM_FIELD + "\\\":\\\"crc32c"), "the flips above covered the checksum: " + text);
    }

    @Test
    void aModelFileWithoutChecksumLoadsUnlessItsDocumentSaysItHadOne() throws IOException {
        Model m = withFrozenLayer();
        Path file = dir.resolve("m.safetensors");
        m.save(file);
        Safetensors.File f = Safetensors.read(file);
        assertTrue(f.checksummed());
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = (Map<String, Object>) Json.parse(f.metadata().get(ModelFile.METADATA_KEY));
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        for (String n : f.names()) tensors.put(n, f.tensor(n));

        // the document says checksummed, the checksum entry is gone: corrupt or rewritten, so refused
        Files.write(file, SafetensorsTest.unchecked(tensors, Map.of(ModelFile.METADATA_KEY, Json.write(doc))));
        IOException e = assertThrows(IOException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("no '" + Safetensors.CHECKSUM_KEY + "' entry"), e.getMessage());

        // as Kiln wrote files before checksums: neither the entry nor the document field; loads as it did
        doc.remove(ModelFile.CHECKSUM_FIELD);
        Files.write(file, SafetensorsTest.unchecked(tensors, Map.of(ModelFile.METADATA_KEY, Json.write(doc))));
        Model back = ModelFile.load(file);
        assertFalse(back.layer("frozen").trainable());
        for (int i = 0; i < m.weights().size(); i++) assertArrayEquals(m.weights().get(i).value(), back.weights().get(i).value(), 0f);
    }

    /** Rewrites a model file with its architecture document and tensors edited. */
    @SuppressWarnings("unchecked")
    static void rewrite(Path file, Consumer<Map<String, Object>> editDoc, Consumer<Map<String, FloatTensor>> editTensors) throws IOException {
        Safetensors.File f = Safetensors.read(file);
        Map<String, Object> doc = (Map<String, Object>) Json.parse(f.metadata().get(ModelFile.METADATA_KEY));
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        for (String n : f.names()) tensors.put(n, f.tensor(n));
        editDoc.accept(doc);
        editTensors.accept(tensors);
        Safetensors.write(file, tensors, Map.of(ModelFile.METADATA_KEY, Json.write(doc)));
    }
}
