package dev.kiln.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's chromium, headless, for page tests (installed by scripts/install-test-deps.sh): a fresh empty profile per
 * run, no background networking, the page's scripts run for a budget of virtual time before the DOM is dumped or
 * the screenshot taken.
 */
final class HeadlessChromium {
    static final Path BINARY = Path.of(System.getenv().getOrDefault("KILN_CHROMIUM", "/usr/bin/chromium"));

    private HeadlessChromium() {}

    /** Why chromium cannot run here, or null when it can. */
    static String unavailable() {
        if (!Files.isExecutable(BINARY)) return BINARY + " not found (scripts/install-test-deps.sh installs Debian's chromium under CI=true; by hand: apt-get install chromium)";
        return null;
    }

    /** The DOM after the page's scripts ran for {@code budgetMillis} of virtual time. */
    static String dumpDom(String url, int budgetMillis) throws IOException, InterruptedException {
        return new String(run(url, budgetMillis, "--dump-dom"), StandardCharsets.UTF_8);
    }

    /** The DOM as {@link #dumpDom} gives it, and a PNG screenshot of the page ({@code width} x {@code height}) from the same load. */
    static String dumpDomAndScreenshot(String url, int budgetMillis, Path png, int width, int height) throws IOException, InterruptedException {
        byte[] dom = run(url, budgetMillis, "--dump-dom", "--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height, "--hide-scrollbars");
        if (!Files.isRegularFile(png)) throw new IOException("chromium wrote no screenshot " + png);
        return new String(dom, StandardCharsets.UTF_8);
    }

    private static byte[] run(String url, int budgetMillis, String... what) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("kiln-chromium-");
        try {
            List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + profile, "--virtual-time-budget=" + budgetMillis));
            cmd.addAll(List.of(what));
            cmd.add(url);
            Path err = profile.resolveSibling(profile.getFileName() + ".log");
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("chromium did not finish in 120 s: " + String.join(" ", cmd));
            }
            String log = Files.readString(err);
            Files.deleteIfExists(err);
            if (p.exitValue() != 0) throw new IOException("chromium exited with " + p.exitValue() + ": " + log.strip());
            return out;
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
