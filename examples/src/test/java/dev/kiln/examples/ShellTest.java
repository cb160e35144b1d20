package dev.kiln.examples;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./kiln shell}: JShell with the same flags and startup script as the launcher, fed one Kiln expression. */
class ShellTest {
    @Test
    void shellImportsKilnAndPrintsATensor() throws IOException, InterruptedException {
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        if (!Files.isExecutable(jshell)) System.out.println("ShellTest skipped: no " + jshell + " (a JRE, not a JDK)");
        Assumptions.assumeTrue(Files.isExecutable(jshell), "no jshell in this JDK");
        Path startup = Path.of("..", "scripts", "kiln-shell.jsh").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(startup), "the launcher's startup script is missing: " + startup);
        Process p = new ProcessBuilder(List.of(jshell.toString(), "--class-path", System.getProperty("java.class.path"),
                "--add-modules", "jdk.incubator.vector", "-J--add-modules=jdk.incubator.vector",
                "-R--add-modules=jdk.incubator.vector", "-R--enable-native-access=ALL-UNNAMED",
                "--startup", "DEFAULT", "--startup", startup.toString()))
                .redirectErrorStream(true).start();
        p.getOutputStream().write("Tensor.of(Shape.of(2), 1, 2).relu()\n/exit\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jshell did not exit");   // it takes ~3 s here
        assertTrue(out.contains("tensor([1., 2.], shape=[2], dtype=float32)"), out);
    }
}
