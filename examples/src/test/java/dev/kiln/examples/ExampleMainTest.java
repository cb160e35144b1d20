package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Examples fail like programs: bad input is one line on stderr, {@code kiln run <name>: ...}, and a
 * non-zero exit status; a bug keeps its stack trace under a line that says it is one. The end-to-end
 * cases run an example's real {@code main} in a child JVM, as {@code ./kiln run} does.
 */
class ExampleMainTest {
    @TempDir Path tmp;

    record Exit(int status, List<String> out, List<String> err) {}

    /**
     * Runs {@code main} of {@code cls} in a child JVM with this test's class path; stderr without the
     * JVM's own notice about incubator modules. The time bound only guards against a hang: these
     * runs take 1 to 10 s here (on main, where unknown options were ignored, they trained for minutes).
     */
    static Exit runMain(Class<?> cls, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), cls.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.PIPE).redirectError(ProcessBuilder.Redirect.PIPE).start();
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        Thread pumpOut = Thread.ofVirtual().start(() -> copy(p.getInputStream(), out));
        Thread pumpErr = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), err));
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(cls.getSimpleName() + " " + String.join(" ", args) + " still running after 180 s");
        }
        pumpOut.join();
        pumpErr.join();
        List<String> errLines = new ArrayList<>();
        for (String line : err.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isEmpty() && !line.startsWith("WARNING: Using incubator modules")) errLines.add(line);
        }
        return new Exit(p.exitValue(), out.toString(StandardCharsets.UTF_8).lines().toList(), errLines);
    }

    private static void copy(java.io.InputStream in, ByteArrayOutputStream to) {
        try {
            in.transferTo(to);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Two classes of two small 16x16 PNGs each, drawn by the convnet lesson. */
    Path imageFolder() throws IOException {
        Path folder = tmp.resolve("images");
        ConvNetImageFolder.drawShapes(folder, 2, 16, 3);
        return folder;
    }

    @Test void convnetOnAFolderWithAZeroByteFileSaysSoInOneLineAndExitsWith1() throws Exception {
        Path folder = imageFolder();
        Path empty = Files.createFile(folder.resolve("vertical/empty.jpg"));
        Exit e = runMain(ConvNetImageFolder.class, folder.toString(), "--size", "16", "--epochs", "1", "--out", tmp.resolve("out").toString());
        assertEquals(1, e.status(), "stderr: " + e.err());
        assertEquals(1, e.err().size(), "stderr should be one line: " + e.err());
        String line = e.err().getFirst();
        assertTrue(line.startsWith("kiln run convnet: " + empty + ": empty file") && line.contains("--skip-unreadable"), line);
    }

    @Test void convnetWithSkipUnreadableTrainsOnTheRestAndNamesWhatItSkipped() throws Exception {
        Path folder = imageFolder();
        Path empty = Files.createFile(folder.resolve("vertical/empty.jpg"));
        Path text = Files.writeString(folder.resolve("horizontal/notes.png"), "not a picture");
        Exit e = runMain(ConvNetImageFolder.class, folder.toString(), "--size", "16", "--epochs", "1", "--out", tmp.resolve("out").toString(), "--skip-unreadable");
        assertEquals(0, e.status(), "stderr: " + e.err());
        int at = e.out().indexOf("Skipped 2 unreadable images (--skip-unreadable):");
        assertTrue(at > 0, "no list of skipped files at the end: " + e.out());
        assertEquals(at + 3, e.out().size(), "the skipped files should end the output: " + e.out());
        assertTrue(e.out().get(at + 1).startsWith("  " + text + ": "), e.out().get(at + 1));
        assertTrue(e.out().get(at + 2).startsWith("  " + empty + ": empty file"), e.out().get(at + 2));
        assertTrue(e.out().stream().anyMatch(l -> l.startsWith("Classes [horizontal, vertical]: 3 train, 1 validation images")), e.out().toString());
    }

    @Test void everyExampleRejectsAnUnknownOptionInOneLineWithStatus2() throws Exception {
        List<Class<?>> examples = List.of(LinearUnit.class, DeepNet.class, Regression.class, LearningRateBatchGrid.class, EarlyStoppingExample.class,
                DropoutBatchNorm.class, ConvNetImageFolder.class, TransferLearning.class, FashionMnistSubset.class, FashionDemo.class);
        for (Class<?> c : examples) {
            Exit e = runMain(c, "--no-such-option", "--out", tmp.resolve("out").toString());
            assertEquals(ExampleMain.BAD_COMMAND_LINE, e.status(), c.getSimpleName() + " stderr: " + e.err());
            assertEquals(1, e.err().size(), c.getSimpleName() + ": " + e.err());
            assertTrue(e.err().getFirst().matches("kiln run [a-z-]+: unknown option --no-such-option \\(usage: kiln run [a-z-]+ .*\\)"), e.err().getFirst());
        }
    }

    static int status(String[] args, PrintStream err, ExampleMain.Body body) {
        return ExampleMain.status("demo-x", "[FOLDER] [--epochs N] [--fast]", args, err, body);
    }

    @Test void badInputIsOneLineAndABugKeepsItsTraceUnderALineSayingSo() {
        var err = new ByteArrayOutputStream();
        int s = status(new String[0], new PrintStream(err, true, StandardCharsets.UTF_8), a -> { throw new NoSuchFileException("/data/x.csv"); });
        assertEquals(ExampleMain.BAD_INPUT, s);
        assertEquals("kiln run demo-x: /data/x.csv: no such file or folder\n", err.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));

        err.reset();
        s = status(new String[0], new PrintStream(err, true, StandardCharsets.UTF_8), a -> { throw new IllegalArgumentException("row 3: 'x' is not a number"); });
        assertEquals(ExampleMain.BAD_INPUT, s);
        assertEquals("kiln run demo-x: row 3: 'x' is not a number", err.toString(StandardCharsets.UTF_8).strip());

        err.reset();
        s = status(new String[0], new PrintStream(err, true, StandardCharsets.UTF_8), a -> { throw new NullPointerException("boom"); });
        assertEquals(ExampleMain.BUG, s);
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals("kiln run demo-x: internal error, a bug in Kiln (please report it with this trace): java.lang.NullPointerException: boom", lines.getFirst());
        assertTrue(lines.size() > 2 && lines.get(2).strip().startsWith("at "), "the trace should follow: " + lines);
    }

    @Test void theCommandLineIsCheckedAgainstTheUsageLine() {
        String[][] bad = {{"--epochs"}, {"--epochs", "--fast"}, {"a", "b"}, {"--slow"}};
        String[] why = {"--epochs needs a value", "--epochs needs a value", "unexpected argument 'b'", "unknown option --slow"};
        for (int i = 0; i < bad.length; i++) {
            var err = new ByteArrayOutputStream();
            boolean[] ran = {false};
            int s = status(bad[i], new PrintStream(err, true, StandardCharsets.UTF_8), a -> ran[0] = true);
            assertEquals(ExampleMain.BAD_COMMAND_LINE, s, String.join(" ", bad[i]));
            assertFalse(ran[0]);
            assertEquals("kiln run demo-x: " + why[i] + " (usage: kiln run demo-x [FOLDER] [--epochs N] [--fast])", err.toString(StandardCharsets.UTF_8).strip());
        }
        assertEquals(0, status(new String[] {"--fast", "dir", "--epochs", "3"}, new PrintStream(new ByteArrayOutputStream()), a -> {}));
        var err = new ByteArrayOutputStream();
        assertEquals(ExampleMain.BAD_COMMAND_LINE, ExampleMain.status("subset", "FOLDER", new String[0], new PrintStream(err, true, StandardCharsets.UTF_8), a -> {}));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("kiln run subset: missing FOLDER"), err.toString(StandardCharsets.UTF_8));
    }
}
