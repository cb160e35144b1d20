package dev.kiln.cuda;

import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.TestDevice;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parity suite for a GPU machine (./kiln gpu-pack's run script): kiln-cuda's kernel and lowering tests, each op
 * against its CPU reference, run through the JUnit launcher with {@code -Dkiln.cuda.test=gpu}, so every test opens the
 * real driver ({@link TestDevice}) and fails, rather than falling back to the emulator, where there is no GPU. The
 * binding tests (ffi: header check, stand-in libraries) and the emulator's own tests (emu) are left out: they check
 * this repository's build machine, not the device.
 *
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dkiln.cuda.test=gpu \
 *     -cp 'lib/*:parity/*' dev.kiln.cuda.ParitySuite --out parity.txt</pre>
 *
 * Prints one line per test that did not pass and, last, "N passed, N failed, N skipped"; exits 1 when a test failed or
 * none ran.
 */
public final class ParitySuite {
    /** Left out: classes that check the build machine (bindings against headers and stand-ins, the emulator itself), and ParitySuiteTest's samples. */
    static final String[] EXCLUDED = {"dev\\.kiln\\.cuda\\.ffi\\..*", "dev\\.kiln\\.cuda\\.emu\\..*", "dev\\.kiln\\.cuda\\.paritysample\\..*",
            ".*LibraryCheckTest", ".*ParitySuite.*"};

    private ParitySuite() {}

    /** Per-test outcomes, in the order the tests ended. */
    record Outcome(List<String> passed, List<String> failed, List<String> skipped) {
        String summary() { return passed.size() + " passed, " + failed.size() + " failed, " + skipped.size() + " skipped"; }
    }

    static Outcome run(String packageName, String... excluded) {
        LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request().selectors(DiscoverySelectors.selectPackage(packageName));
        if (excluded.length > 0) builder.filters(ClassNameFilter.excludeClassNamePatterns(excluded));
        LauncherDiscoveryRequest request = builder.build();
        List<String> passed = new ArrayList<>(), failed = new ArrayList<>(), skipped = new ArrayList<>();
        TestExecutionListener listener = new TestExecutionListener() {
            @Override public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest() || id.isContainer()) skipped.add(name(id) + ": skipped: " + reason);
            }

            @Override public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) return;
                String line = name(id);
                switch (result.getStatus()) {
                    case SUCCESSFUL -> passed.add(line);
                    case ABORTED -> skipped.add(line + ": skipped: " + result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
                    case FAILED -> failed.add(line + ": FAILED: " + result.getThrowable().map(t -> t.getClass().getSimpleName() + ": " + firstLine(t.getMessage())).orElse("failed"));
                }
            }
        };
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, listener);
        return new Outcome(passed, failed, skipped);
    }

    private static String name(TestIdentifier id) {
        String className = id.getSource().map(s -> s instanceof MethodSource m ? m.getClassName() : s instanceof ClassSource c ? c.getClassName() : "")
                .orElse("");
        String simple = className.substring(className.lastIndexOf('.') + 1);
        return id.getSource().orElse(null) instanceof ClassSource ? simple : (simple.isEmpty() ? "" : simple + ".") + id.getDisplayName();
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public static void main(String[] args) throws IOException {
        Path out = args.length == 2 && args[0].equals("--out") ? Path.of(args[1]) : null;
        long t0 = System.nanoTime();
        Outcome o = run("dev.kiln.cuda", EXCLUDED);
        StringBuilder report = new StringBuilder();
        report.append("parity suite on ").append(TestDevice.used()).append(": ").append(EmulatedDevice.CASES.get())
                .append(" kernel cases against CPU references, ").append(String.format("%.1f s%n", (System.nanoTime() - t0) / 1e9));
        for (String f : o.failed()) report.append(f).append('\n');
        for (String s : o.skipped()) report.append(s).append('\n');
        report.append(o.summary()).append('\n');
        System.out.print(report);
        if (out != null) Files.writeString(out, report + "\npassed:\n" + String.join("\n", o.passed()) + "\n");
        if (!o.failed().isEmpty() || o.passed().isEmpty()) System.exit(1);
    }
}
