// The charts of the operations centre (portal/static/js/ioc-*.js): Chart.js with every controller, scale and
// element registered, exposed as window.MotCuaCharts.Chart. Every chart on the portal draws from a data table
// that stays on the page beside it (the accessible version of the chart).
import Chart from "chart.js/auto";

export { Chart };
