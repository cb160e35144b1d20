package dev.kiln.train;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * An animated GIF from frames (for example {@link ChartSheet#image()}s), written with the JDK's own
 * GIF writer: every frame shown {@code delayMs}, the last one {@code lastDelayMs}, looping forever.
 *
 * <pre>{@code Gif.write(Path.of("fit.gif"), frames, 120, 1500); }</pre>
 */
public final class Gif {
    private Gif() {}

    public static void write(Path gif, List<BufferedImage> frames, int delayMs, int lastDelayMs) {
        if (frames.isEmpty()) throw new IllegalArgumentException(gif + ": an animation needs at least one frame");
        History.writeAtomically(gif, tmp -> {
            ImageWriter w = ImageIO.getImageWritersByFormatName("gif").next();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(tmp.toFile())) {
                w.setOutput(out);
                w.prepareWriteSequence(null);
                for (int i = 0; i < frames.size(); i++) {
                    BufferedImage f = frames.get(i);
                    ImageWriteParam param = w.getDefaultWriteParam();
                    IIOMetadata meta = w.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(f), param);
                    frameMetadata(meta, (i == frames.size() - 1 ? lastDelayMs : delayMs) / 10, i == 0);
                    w.writeToSequence(new IIOImage(f, null, meta), param);
                }
                w.endWriteSequence();
            } finally {
                w.dispose();
            }
        });
    }

    /** Sets the frame's delay (in 1/100 s) and, on the first frame, the NETSCAPE2.0 loop-forever block. */
    private static void frameMetadata(IIOMetadata meta, int delayCentis, boolean first) throws IOException {
        String format = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "none");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("delayTime", Integer.toString(Math.max(1, delayCentis)));
        gce.setAttribute("transparentColorIndex", "0");
        if (first) {
            IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
            app.setAttribute("applicationID", "NETSCAPE");
            app.setAttribute("authenticationCode", "2.0");
            app.setUserObject(new byte[] {1, 0, 0});   // sub-block 1: loop count 0 = forever
            child(root, "ApplicationExtensions").appendChild(app);
        }
        meta.setFromTree(format, root);
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
        for (int i = 0; i < root.getLength(); i++) if (root.item(i).getNodeName().equalsIgnoreCase(name)) return (IIOMetadataNode) root.item(i);
        IIOMetadataNode n = new IIOMetadataNode(name);
        root.appendChild(n);
        return n;
    }
}
