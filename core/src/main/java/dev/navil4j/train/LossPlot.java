package dev.navil4j.train;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The loss curve as a PNG: total (black), lm (blue) and distill (red) loss per step, headless Java2D. */
final class LossPlot {
    private LossPlot() {}

    static void write(List<Trainer.Row> rows, Path file) throws IOException {
        int w = 800, h = 450, l = 60, r = 20, t = 30, b = 40;
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double max = 0;
        for (Trainer.Row row : rows) max = Math.max(max, Math.max(row.loss(), Math.max(row.lm(), row.distill())));
        if (!(max > 0)) max = 1;
        int steps = rows.isEmpty() ? 1 : Math.max(1, rows.getLast().step());
        g.setColor(Color.GRAY);
        g.drawRect(l, t, w - l - r, h - t - b);
        g.drawString("step", w / 2, h - 10);
        g.drawString(String.format(Locale.ROOT, "%.2f", max), 5, t + 5);
        g.drawString("0", 40, h - b);
        g.drawString(Integer.toString(steps), w - r - 30, h - b + 15);
        g.drawString("loss (black)  lm (blue)  distill (red)", l + 10, t - 10);
        g.setStroke(new BasicStroke(1.5f));
        line(g, rows, Trainer.Row::loss, Color.BLACK, max, steps, l, r, t, b, w, h);
        line(g, rows, Trainer.Row::lm, Color.BLUE, max, steps, l, r, t, b, w, h);
        line(g, rows, Trainer.Row::distill, Color.RED, max, steps, l, r, t, b, w, h);
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static void line(Graphics2D g, List<Trainer.Row> rows, ToDoubleFunction<Trainer.Row> f, Color c, double max, int steps,
                             int l, int r, int t, int b, int w, int h) {
        g.setColor(c);
        int px = -1, py = -1;
        for (Trainer.Row row : rows) {
            int x = l + (int) Math.round((double) row.step() / steps * (w - l - r));
            int y = h - b - (int) Math.round(Math.max(0, f.applyAsDouble(row)) / max * (h - t - b));
            if (px >= 0) g.drawLine(px, py, x, y);
            px = x;
            py = y;
        }
    }
}
