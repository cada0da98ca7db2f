// The indicators page's charts (app/indicators/templates/indicators/index.html). The tables on
// the page are the truth; each chart draws the same numbers, given by the server in
// <script type="application/json" id="indicators-charts"> (app/indicators/display.py: per chart
// its categories, named series, colours and how to draw them). Each element
// [data-chart="<name>"] gets the chart of that name. Only the parts of Apache ECharts used here
// are bundled, drawn as SVG (sharp on paper). Charts follow their box's size; on paper, bars
// and lines also get patterns so that they stay apart in grey.
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
} from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, AriaComponent, GridComponent, LegendComponent,
  TooltipComponent, SVGRenderer]);

const SYMBOLS = ["circle", "rect", "triangle", "diamond", "roundRect", "pin", "arrow",
  "emptyCircle"];
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const INK = "#1d2733";
const MUTED = "#5f6b7a";
const LINE = "#dde3ea";

const language = document.documentElement.lang || "es";
let printing = false; // on paper, patterns tell the series apart in grey
const numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 1 });

// Amounts of money (the cost chart: spec.currency) in the company's currency with two
// decimals, as the tables and the rest of the app write them ("1.250,50 COP"); its axis in
// whole units, so that its labels stay short.
function moneyFormatter(currency, decimals) {
  let format;
  try {
    format = new Intl.NumberFormat(language, {
      style: "currency", currency, currencyDisplay: "code", useGrouping: "always",
      minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    });
  } catch (error) {
    format = new Intl.NumberFormat(language, {
      useGrouping: "always", minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    });
  }
  return (value) => (value === null || value === undefined || value === "-"
    ? "—" : format.format(value));
}

function formatter(unit, currency, decimals = 2) {
  if (currency) return moneyFormatter(currency, decimals);
  return (value) => {
    if (value === null || value === undefined || value === "-") return "—";
    const text = numbers.format(value);
    if (!unit) return text;
    return unit === "%" ? `${text} %` : `${text} ${unit}`;
  };
}

// A bar chart lying down grows with its categories, so that every name stays readable.
function heightFor(spec, element) {
  if (!spec.horizontal) return null;
  const perBar = spec.stacked || spec.series.length === 1 ? 30 : 44;
  const legend = spec.series.length > 1 ? 36 : 0;
  const least = element.clientWidth < 500 ? 180 : 220;
  return Math.max(least, spec.categories.length * perBar + legend + 48);
}

function seriesOf(spec) {
  const many = spec.categories.length > 40;
  return spec.series.map((one, index) => {
    const series = {
      name: one.name,
      type: spec.kind === "line" ? "line" : "bar",
      data: one.data,
      emphasis: { focus: "series" },
    };
    if (spec.kind === "line") {
      Object.assign(series, {
        symbol: SYMBOLS[index % SYMBOLS.length],
        symbolSize: 7,
        showSymbol: !many,
        lineStyle: { width: 2 },
      });
    } else {
      series.barMaxWidth = 36;
      if (spec.stacked) series.stack = "total";
      if (spec.by_point) {
        series.data = one.data.map((value, at) => ({
          value, itemStyle: { color: spec.colors[at % spec.colors.length] },
        }));
      }
    }
    return series;
  });
}

function optionOf(spec, element) {
  const narrow = element.clientWidth < 500;
  const legend = spec.series.length > 1;
  const category = {
    type: "category",
    data: spec.categories,
    axisLine: { lineStyle: { color: MUTED } },
    axisTick: { alignWithLabel: true },
    axisLabel: { color: INK, hideOverlap: true },
  };
  if (spec.kind === "line") category.boundaryGap = false;
  if (spec.horizontal) {
    Object.assign(category.axisLabel, {
      width: Math.min(narrow ? 110 : 180, Math.round(element.clientWidth * 0.4)),
      overflow: "truncate",
      interval: 0,
    });
    category.inverse = true; // the first category on top, as in the table
  }
  const value = {
    type: "value",
    axisLabel: { color: MUTED, formatter: formatter(spec.unit, spec.currency, 0) },
    splitLine: { lineStyle: { color: LINE } },
    splitNumber: narrow ? 3 : 5,
    minInterval: spec.unit ? 0 : 1,
  };
  if (spec.max !== undefined) value.max = spec.max;
  return {
    animation: false,
    color: spec.colors,
    textStyle: { fontFamily: FONT, color: INK },
    aria: { enabled: true, label: { enabled: false }, decal: { show: printing } },
    legend: legend ? {
      type: "scroll", top: 0, left: 0, right: 0, icon: spec.kind === "line" ? undefined : "rect",
      textStyle: { color: INK },
    } : undefined,
    grid: { left: 4, right: narrow ? 12 : 24, top: legend ? 40 : 12, bottom: 4,
      containLabel: true },
    tooltip: {
      trigger: "axis",
      confine: true,
      axisPointer: { type: spec.kind === "line" ? "line" : "shadow" },
      valueFormatter: formatter(spec.unit, spec.currency),
    },
    xAxis: spec.horizontal ? value : category,
    yAxis: spec.horizontal ? category : value,
    series: seriesOf(spec),
  };
}

function draw(element, spec) {
  const height = heightFor(spec, element);
  if (height) element.style.height = `${height}px`;
  const chart = echarts.init(element, null, { renderer: "svg" });
  chart.setOption(optionOf(spec, element));
  return chart;
}

function start() {
  const island = document.getElementById("indicators-charts");
  if (!island) return;
  let specs;
  try {
    specs = JSON.parse(island.textContent);
  } catch (error) {
    return; // the tables still say everything
  }
  const drawn = [];
  document.querySelectorAll("[data-chart]").forEach((element) => {
    const spec = specs[element.dataset.chart];
    if (!spec || !spec.categories || spec.categories.length === 0) return;
    const chart = draw(element, spec);
    element.dataset.drawn = "true";
    drawn.push({ element, spec, chart, width: element.clientWidth });
  });

  // Follow the box: the window, the grid stacking on a phone, the page being printed.
  const refit = (item) => {
    const height = heightFor(item.spec, item.element);
    if (height) item.element.style.height = `${height}px`;
    item.chart.setOption(optionOf(item.spec, item.element), { replaceMerge: ["series"] });
    item.chart.resize();
    item.width = item.element.clientWidth;
  };
  if ("ResizeObserver" in window) {
    const observer = new ResizeObserver((entries) => {
      entries.forEach((entry) => {
        const item = drawn.find((one) => one.element === entry.target);
        if (item && item.element.clientWidth !== item.width) refit(item);
      });
    });
    drawn.forEach((item) => observer.observe(item.element));
  } else {
    let timer = null;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => drawn.forEach(refit), 150);
    });
  }
  const patterns = (show) => {
    printing = show;
    drawn.forEach(refit);
  };
  window.addEventListener("beforeprint", () => patterns(true));
  window.addEventListener("afterprint", () => patterns(false));
}

// The filter form: typing a day means "Custom dates" (a listed period would win over it).
function followDates() {
  const preset = document.getElementById("filter-preset");
  ["filter-from", "filter-to"].forEach((id) => {
    const input = document.getElementById(id);
    if (preset && input) input.addEventListener("change", () => { preset.value = ""; });
  });
}

followDates();
start();
