package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A new user's path, end to end: a fresh Maven project outside the reactor, whose pom holds README.md's dependency
 * snippet and whose one class is README.md's program, builds against Kiln's artifacts and runs.
 *
 * <p>The artifacts are what {@code ./kiln install} puts into a local repository: each runtime module's pom and a jar
 * of its classes (made here from target/classes, since {@code mvn test} packages nothing). They go into a temporary
 * local repository whose other entries link to the user's own (~/.m2/repository), so the offline build finds Maven's
 * plugins and Kiln's third-party dependencies there and never writes Kiln's test build into the user's repository.
 */
class OutsideProjectTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** module folder -> artifact id: the modules a user depends on. */
    private static final List<String[]> MODULES = List.of(
            new String[] {"engine", "kiln-engine"}, new String[] {"cpu-fallback", "kiln-cpu"}, new String[] {"kernels", "kiln-cuda"});
    private static final String VERSION = "0.1.0-SNAPSHOT";

    @Test
    void readmeProgramBuildsAndRunsInAnOutsideMavenProject(@TempDir Path tmp) throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int section = readme.indexOf("## Use Kiln in your project");
        assertTrue(section >= 0, "README.md has no section '## Use Kiln in your project'");
        String xml = block(readme, section, "xml"), java = block(readme, section, "java");
        assertTrue(java.contains("import dev.kiln.nn.*;"), "README's program should import dev.kiln.nn.*");

        Path repo = localRepository(tmp.resolve("m2"));
        Path app = tmp.resolve("app");
        Files.createDirectories(app.resolve("src/main/java"));
        // README's program with dev.kiln.graph.* imported beside dev.kiln.nn.*: names must not collide (Input was in both)
        Files.writeString(app.resolve("src/main/java/Hello.java"), java.replace("import dev.kiln.nn.*;", "import dev.kiln.nn.*;\nimport dev.kiln.graph.*;"));
        Files.writeString(app.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>com.example</groupId><artifactId>hello</artifactId><version>1</version>
                  <properties><maven.compiler.release>25</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
                  <dependencies>
                %s
                  </dependencies>
                  <build><plugins>
                    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
                    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
                    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
                  </plugins></build>
                </project>
                """.formatted(xml));

        String javaHome = System.getProperty("java.home");
        Path cpFile = app.resolve("cp.txt");
        run(app, List.of(maven(), "-B", "-q", "-o", "-Dmaven.repo.local=" + repo, "compile", "dependency:build-classpath",
                "-Dmdep.outputFile=" + cpFile, "-DincludeScope=runtime"), javaHome);
        String cp = Files.readString(cpFile).strip();
        assertTrue(cp.contains("kiln-engine-" + VERSION + ".jar") && cp.contains("kiln-cpu-" + VERSION + ".jar"), "runtime class path lacks Kiln's jars: " + cp);
        for (String entry : cp.split(":")) {
            String name = Path.of(entry).getFileName().toString();
            assertFalse(name.contains("junit") || name.contains("opentest4j") || name.endsWith("-tests.jar"),
                    "a test artifact leaked onto the user's runtime class path: " + entry);
        }

        String out = run(app, List.of(javaHome + "/bin/java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", app.resolve("target/classes") + ":" + cp, "Hello"), javaHome);
        Matcher m = Pattern.compile("f\\(0\\.5\\) = (\\S+)").matcher(out);
        assertTrue(m.find(), "README's program printed no 'f(0.5) = ...' line:\n" + out);
        // y = 3x - 2 is linear, so a trained linear unit lands close; 0.05 is far above its residual error
        assertEquals(-0.5, Float.parseFloat(m.group(1)), 0.05, out);
    }

    /** The first ```lang block after {@code from}. */
    private static String block(String text, int from, String lang) {
        int start = text.indexOf("```" + lang + "\n", from);
        assertTrue(start >= 0, "README.md's section has no ```" + lang + " block");
        start += lang.length() + 4;
        return text.substring(start, text.indexOf("```", start));
    }

    /** A local repository holding Kiln's artifacts, everything else linked to the user's repository. */
    private static Path localRepository(Path repo) throws IOException {
        Path user = Path.of(System.getProperty("maven.repo.local", System.getProperty("user.home") + "/.m2/repository"));
        assertTrue(Files.isDirectory(user), "no local Maven repository at " + user + " (the outside build runs offline from it)");
        linkAllBut(user, repo, "dev");
        Path dev = repo.resolve("dev");
        if (Files.isDirectory(user.resolve("dev"))) linkAllBut(user.resolve("dev"), dev, "kiln");
        Path kiln = dev.resolve("kiln");
        Path parent = Files.createDirectories(kiln.resolve("kiln-parent").resolve(VERSION));
        Files.copy(ROOT.resolve("pom.xml"), parent.resolve("kiln-parent-" + VERSION + ".pom"));
        for (String[] mod : MODULES) {
            Path classes = ROOT.resolve(mod[0]).resolve("target/classes");
            assertTrue(Files.isDirectory(classes), "no " + classes + ": the reactor compiles module " + mod[0] + " before examples");
            Path dir = Files.createDirectories(kiln.resolve(mod[1]).resolve(VERSION));
            Files.copy(ROOT.resolve(mod[0]).resolve("pom.xml"), dir.resolve(mod[1] + "-" + VERSION + ".pom"));
            jar(classes, dir.resolve(mod[1] + "-" + VERSION + ".jar"));
        }
        return repo;
    }

    private static void linkAllBut(Path from, Path to, String except) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().equals(except)) Files.createSymbolicLink(to.resolve(p.getFileName().toString()), p);
            }
        }
    }

    private static void jar(Path classes, Path jar) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(classes)) { files = s.filter(Files::isRegularFile).sorted().toList(); }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (Path f : files) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }

    private static String maven() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "mvn"))) return Path.of(dir, "mvn").toString();
        }
        return fail("mvn is not on PATH; this test builds an outside Maven project (apt-get install maven)");
    }

    /** Runs a command in {@code dir}, failing with its output when it fails or runs past 150 s (a hang, not a speed bound). */
    private static String run(Path dir, List<String> command, String javaHome) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", javaHome);
        pb.environment().put("MAVEN_OPTS", "--sun-misc-unsafe-memory-access=allow");
        Path log = dir.resolve("command.log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) { /* no input */ }
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " ran past 150 s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + out);
        return out;
    }
}
