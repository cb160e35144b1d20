package dev.kiln.spark.examples;

import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.spark.DataParallel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;

/** What the Spark examples share: a local-mode session, M1 and a synthetic 11-feature regression table. */
final class Local {
    static final int F = 11;
    static final List<String> FEATURES = new ArrayList<>();
    static { for (int i = 0; i < F; i++) FEATURES.add("f" + i); }
    static final DataParallel.Compile COMPILE = m -> m.compile(Adam.lr(1e-3), Loss.mae());

    private Local() {}

    static SparkSession session(int slots) {
        SparkSession s = SparkSession.builder().appName("kiln-spark-example").master("local[" + slots + ",2]")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", String.valueOf(slots)).getOrCreate();
        s.sparkContext().setLogLevel("ERROR");
        return s;
    }

    /** M1 of DESIGN.md: 11 -> Dense 512 x3 ReLU -> 1, MAE, Adam. */
    static Model m1() {
        Model m = Sequential.of(Input.shape(F), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(1)).seed(42);
        COMPILE.accept(m);
        return m;
    }

    /** {@code rows} rows of f0..f10 (uniform in [-2, 2)) and y = sum of sin(f_j (j+1) / 3), in {@code parts} partitions. */
    static Dataset<Row> table(SparkSession s, long rows, int parts) {
        StringBuilder sel = new StringBuilder();
        StringBuilder y = new StringBuilder();
        for (int j = 0; j < F; j++) {
            sel.append("cast(rand(").append(j + 1).append(") * 4 - 2 as float) as f").append(j).append(';');
            y.append(j == 0 ? "" : " + ").append("sin(f").append(j).append(" * ").append(j + 1).append(" / 3.0)");
        }
        return s.range(0, rows, 1, parts).selectExpr(sel.toString().split(";")).selectExpr("*", "cast(" + y + " as float) as y");
    }

    static String arg(String[] args, String name, String dflt) {
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals(name)) return args[i + 1];
        return dflt;
    }
}
