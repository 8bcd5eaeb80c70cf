import "./banner.js";
import "./main.js";
