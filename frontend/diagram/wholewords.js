// bpmn-js draws a step's name inside its box and wraps it to the box's width; a word longer than
// the box used to be cut in two ("automáticamen-te" across two lines, without a hyphen). This
// text renderer never breaks a word: when the longest word of a name does not fit, the name is
// drawn a little smaller (down to MIN_FONT_SIZE), and if it still does not fit, its box is made
// as wide as that word (centred where the box was), so the word overhangs the shape instead.
import TextRenderer from "bpmn-js/lib/draw/TextRenderer";

const MIN_FONT_SIZE = 9;
const WIDE = 100000; // a box no word fills: measures a word on one line

function sidePadding(padding) {
  if (padding === undefined || padding === null) {
    return 0;
  }
  if (typeof padding === "number") {
    return 2 * padding;
  }
  return (padding.left || 0) + (padding.right || 0);
}

export default function WholeWordsTextRenderer(config) {
  TextRenderer.call(this, config);
  const createText = this.createText;
  const measure = this.getDimensions;
  const defaultStyle = this.getDefaultStyle();

  this.createText = (text, options = {}) => {
    const words = String(text || "").split(/\s+/).filter(Boolean);
    const box = options.box || options.size;
    if (!words.length || !box || !box.width) {
      return createText(text, options);
    }
    let style = Object.assign({}, defaultStyle, options.style || {});
    const room = box.width - sidePadding(options.padding);
    const widest = (fontStyle) => Math.max(...words.map((word) => measure(word, {
      box: { width: WIDE, height: WIDE }, style: fontStyle, padding: 0,
    }).width));
    let needed = widest(style);
    const size = parseFloat(style.fontSize) || 12;
    if (needed > room && size > MIN_FONT_SIZE) {
      const smaller = Math.max(MIN_FONT_SIZE, Math.floor((size * room) / needed));
      style = Object.assign({}, style, { fontSize: smaller });
      needed = widest(style);
    }
    const extra = needed > room ? Math.ceil(needed - room) + 2 : 0;
    const adjusted = Object.assign({}, options, { style });
    const centred = !options.align || String(options.align).startsWith("center");
    if (extra) {
      adjusted[options.box ? "box" : "size"] = Object.assign({}, box, { width: box.width + extra });
    }
    const node = createText(text, adjusted);
    if (extra && centred) {
      node.setAttribute("transform", `translate(${-extra / 2}, 0)`); // centred where it was
    }
    return node;
  };
}

WholeWordsTextRenderer.$inject = ["config.textRenderer"];

export const wholeWordsModule = { textRenderer: ["type", WholeWordsTextRenderer] };
